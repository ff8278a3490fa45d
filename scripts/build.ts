// `npm run build`: one minified bundle of src/ in dist/ (esbuild), which bin/latchkey runs when it
// is present and up to date. Why: from source, Node strips the types of ~360 modules at every
// start (its TypeScript stripper alone holds ~17 MB) and resolves each file; the bundle starts in
// about half the time with ~35 MB less RSS (docs/benchmarks.md). `npm start` and the tests keep
// running the sources.
//
// Chunks are split per command (src/main.ts loads each command on demand), so `latchkey proxy`
// never parses the identity provider. Files that read a neighbour at run time
// (`new URL('./assets/style.css', import.meta.url)`) get their own source file's URL instead of
// the chunk's, so the assets in src/ are found exactly as when running from source.
import { build, type Plugin } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
// --outdir: a bundle elsewhere (the bundle test builds into a temporary folder).
const outdir = resolve(parseArgs({ options: { outdir: { type: 'string', default: `${root}dist` } } }).values.outdir);

const sourceUrls: Plugin = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const fromDist = relative(outdir, args.path);
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromDist)}, import.meta.url).href`), loader: 'ts' };
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
  sourcemap: 'linked',
  metafile: true,
  // CommonJS dependencies (fastify, pino, …) call require() for Node's own modules.
  banner: { js: "import { createRequire as __latchkeyRequire } from 'node:module'; const require = __latchkeyRequire(import.meta.url);" },
  plugins: [sourceUrls],
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`dist/: ${Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js')).length} files, ${(bytes / 1024 / 1024).toFixed(1)} MB with source maps`);
