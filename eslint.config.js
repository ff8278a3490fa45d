// `npm run check` lints with these rules after the strict type check.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'demo/public/', 'data/', 'src/web/assets/vendor/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortSignal: 'readonly', window: 'readonly', document: 'readonly', navigator: 'readonly', location: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-control-regex': 'off',
      'no-console': 'off',
    },
  },
  {
    // An ES import of node:http's values loads undici (13 MB), one of node:https brings TLS (~3 MB):
    // src/core/node-http.ts and src/core/node-https.ts say why and are the ways in.
    files: ['src/**/*.ts'],
    ignores: ['src/core/node-http.ts', 'src/core/node-https.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [
          { name: 'node:http', message: "Import node:http's values from src/core/node-http.ts (an ES import of node:http loads undici); `import type` is fine.", allowTypeImports: true },
          { name: 'node:https', message: 'Load node:https with loadHttps() from src/core/node-https.ts (it brings TLS, ~3 MB, to processes that may never use it); `import type` is fine.', allowTypeImports: true },
        ],
      }],
    },
  },
);
