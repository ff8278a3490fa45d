// `npm run build`: one minified bundle of src/ in dist/ (esbuild), which bin/latchkey runs when it
// is present and up to date. Why: from source, Node strips the types of ~360 modules at every
// start (its TypeScript stripper alone holds ~17 MB) and resolves each file; the bundle starts in
// about half the time with ~35 MB less RSS (docs/benchmarks.md). `npm start` and the tests keep
// running the sources.
//
// Chunks are split per command (src/main.ts loads each command on demand), so `latchkey proxy`
// never parses the identity provider. scripts/bundle-plugins.ts says what is rewritten on the way
// (asset URLs, non-Latin-1 characters, eager Intl objects and server modules in dependencies, ES
// imports of node:http, the OIDC libraries' Headers and Response) and why.
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { builtinsWithoutNamespace, fetchClassesWithoutUndici, httpWithoutUndici, lazyFastifyServerModules, lazyOidcProviderListFormat, lazyRequiredBuiltins, sourceModules } from './bundle-plugins.ts';

const root = new URL('..', import.meta.url).pathname;
// --outdir: a bundle elsewhere (the bundle test builds into a temporary folder). --metafile: esbuild's
// account of which module went into which chunk (what a command loads: bench/lib/chunk-sizes.ts).
const args = parseArgs({ options: { outdir: { type: 'string', default: `${root}dist` }, metafile: { type: 'string' } } }).values;
const outdir = resolve(args.outdir);

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
  plugins: [
    sourceModules(outdir),
    lazyOidcProviderListFormat,
    lazyFastifyServerModules,
    lazyRequiredBuiltins,
    builtinsWithoutNamespace,
    httpWithoutUndici(`${root}src/core/node-http.ts`),
    fetchClassesWithoutUndici(`${root}src/core/fetch-classes.ts`),
  ],
  logLevel: 'warning',
});
if (args.metafile) writeFileSync(args.metafile, JSON.stringify(result.metafile));
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`dist/: ${Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js')).length} files, ${(bytes / 1024 / 1024).toFixed(1)} MB with source maps`);
