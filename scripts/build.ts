// `npm run build`: one minified bundle of src/ in dist/ (esbuild), which bin/latchkey runs when it
// is present and up to date. Why: from source, Node strips the types of ~360 modules at every
// start (its TypeScript stripper alone holds ~17 MB) and resolves each file; the bundle starts in
// about half the time with ~35 MB less RSS (docs/benchmarks.md). `npm start` and the tests keep
// running the sources.
//
// Chunks are split per command (src/main.ts loads each command on demand), so `latchkey proxy`
// never parses the identity provider. Files that read a neighbour at run time
// (`new URL('./assets/style.css', import.meta.url)`, `import.meta.resolve('pkg')`) get the URLs
// they have when running from source, so the assets in src/ and node_modules/ are found as they are there.
import { build, type Plugin } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
// --outdir: a bundle elsewhere (the bundle test builds into a temporary folder).
const outdir = resolve(parseArgs({ options: { outdir: { type: 'string', default: `${root}dist` } } }).values.outdir);

const sourceUrls: Plugin = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.')) return undefined;
      const fromBundle = (path: string) => `new URL(${JSON.stringify(relative(outdir, path))}, import.meta.url).href`;
      return {
        contents: text
          .replaceAll('import.meta.url', fromBundle(args.path))
          // import.meta.resolve('pkg') of a file that ships in node_modules: resolved now, relative to the bundle.
          .replace(/import\.meta\.resolve\((['"])([^'"]+)\1\)/g, (_all, _quote, specifier: string) => fromBundle(fileURLToPath(import.meta.resolve(specifier)))),
        loader: 'ts',
      };
    });
  },
};

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: [`${root}src/main.ts`],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  minify: true,
  // Without it oidc-provider's token endpoint fails ("r is not a function") once names are minified.
  keepNames: true,
  sourcemap: 'linked',
  metafile: true,
  // CommonJS dependencies (fastify, pino, …) call require() for Node's own modules.
  banner: { js: "import { createRequire as __latchkeyRequire } from 'node:module'; const require = __latchkeyRequire(import.meta.url);" },
  plugins: [sourceUrls],
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`dist/: ${Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js')).length} files, ${(bytes / 1024 / 1024).toFixed(1)} MB with source maps`);
