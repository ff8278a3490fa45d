// The rewrites scripts/build.ts makes on the way into the bundle must not change behaviour: our
// sources with every non-Latin-1 character escaped mean the same values, and oidc-provider's list
// wording is the same while its Intl objects are made only when a message needs them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { latin1Source, lazyOidcProviderListFormat } from '../../scripts/bundle-plugins.ts';

describe('latin1Source', () => {
  // Strings, a template, a tagged template that reads the cooked text (as `html` does), regular
  // expressions with and without the u flag, a character beyond U+FFFF, and a comment.
  const source = [
    'const tag = (strings, ...values) => strings.reduce((out, s, i) => out + s + (values[i] ?? ""), "");',
    'const plain = "“quoted” — fine…";',
    "const single = 'it’s';",
    'const template = `New name for “${plain}”`;',
    'const tagged = tag`the browser’s ${"passkey"} prompt 🔑`;',
    'const re = /[–—]/.test("a–b") && /\\d+µs/.test("5µs") && /🔑/u.test("key 🔑");',
    '// a comment: “never read”',
    'return [plain, single, template, tagged, re, "🔑".length, [..."🔑"].length];',
  ].join('\n');

  it('leaves nothing above U+007F', () => {
    assert.doesNotMatch(latin1Source(source), /[^\x00-\x7f]/);
  });

  it('means the same values', () => {
    const run = (text: string) => new Function(text)() as unknown[];
    const expected = run(source);
    assert.deepEqual(run(latin1Source(source)), expected);
    assert.deepEqual(expected.slice(4), [true, 2, 1]);
  });
});

describe('lazyOidcProviderListFormat', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'latchkey-plugin-'));
  after(() => rmSync(outdir, { recursive: true, force: true }));

  it('formats lists as oidc-provider does, making no Intl.ListFormat until one is needed', async () => {
    await build({
      entryPoints: [join(import.meta.dirname, '../../node_modules/oidc-provider/lib/helpers/formatters.js')],
      outfile: join(outdir, 'formatters.mjs'), bundle: true, format: 'esm', platform: 'node', plugins: [lazyOidcProviderListFormat], logLevel: 'silent',
    });
    const intl = Intl as { ListFormat: typeof Intl.ListFormat };
    const original = intl.ListFormat;
    let made = 0;
    intl.ListFormat = class extends original {
      constructor(...args: ConstructorParameters<typeof Intl.ListFormat>) {
        super(...args);
        made++;
      }
    };
    try {
      const formatters = await import(pathToFileURL(join(outdir, 'formatters.mjs')).href) as { formatList(list: string[], options?: { type?: string }): string };
      assert.equal(made, 0);
      assert.equal(formatters.formatList(['client_id', 'scope', 'response_type']), "'client_id', 'scope', and 'response_type'");
      assert.equal(formatters.formatList(['a', 'b'], { type: 'disjunction' }), "'a' or 'b'");
      assert.equal(formatters.formatList(['c', 'd']), "'c' and 'd'");
      assert.equal(made, 2);
    } finally {
      intl.ListFormat = original;
    }
  });
});
