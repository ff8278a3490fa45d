// The esbuild plugins of `npm run build` (scripts/build.ts): what the bundle needs to behave as the
// sources do, and two rewrites that keep memory off a running process (docs/benchmarks.md, "Memory").
import type { Plugin } from 'esbuild';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Our own modules (src/): files that read a neighbour at run time (`new URL('./assets/style.css',
 * import.meta.url)`, `import.meta.resolve('pkg')`) get the URLs they have when running from
 * source, so the assets in src/ and node_modules/ are found as they are there. Also writes every
 * character above U+007F as a `\u` escape (see latin1Source).
 */
export function sourceModules(outdir: string): Plugin {
  return {
    name: 'latchkey-source-modules',
    setup(b) {
      b.onLoad({ filter: /\/src\/.*\.ts$/ }, (args) => {
        // A module that loads a package on first use (src/app/lazy-schema-compilers.ts) makes its own
        // require() when run from source; in the bundle, the free require() lets esbuild bundle the
        // package as a module initialised at that call, instead of loading node_modules' copy.
        let text = readFileSync(args.path, 'utf8').replace(OWN_REQUIRE, '');
        const fromBundle = (path: string) => `new URL(${JSON.stringify(relative(outdir, path))}, import.meta.url).href`;
        if (text.includes('import.meta.')) {
          text = text
            .replaceAll('import.meta.url', fromBundle(args.path))
            // import.meta.resolve('pkg') of a file that ships in node_modules: resolved now, relative to the bundle.
            .replace(/import\.meta\.resolve\((['"])([^'"]+)\1\)/g, (_all, _quote, specifier: string) => fromBundle(fileURLToPath(import.meta.resolve(specifier))));
        }
        return { contents: latin1Source(text), loader: 'ts' };
      });
    },
  };
}

/** The line by which a source module makes its own require(); removed in the bundle (see sourceModules). */
export const OWN_REQUIRE = 'const require = createRequire(import.meta.url);';

/**
 * V8 keeps a module's source text for as long as the module lives, one byte per character only
 * when every character fits in Latin-1; a single "’" makes the whole chunk two bytes per
 * character. esbuild already escapes strings, but not tagged templates (their raw text must stay
 * as written), and our pages are `html` tagged templates full of typographic quotes: the chunk
 * holding the identity provider was 2.5 MB of heap instead of 1.3 MB. Escaping is safe in our
 * sources: in strings, templates (`html` reads the cooked text, never `.raw`; no String.raw in
 * src/), regular expressions and comments a `\uXXXX` means the character itself (characters
 * beyond U+FFFF become their two surrogates, which strings and regular expressions also read as
 * the one character).
 */
export function latin1Source(text: string): string {
  return text.replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * oidc-provider makes two `Intl.ListFormat`s when its helpers load, only to word error messages
 * ("missing required parameters 'a' and 'b'"). The first Intl object of a process reads ICU's
 * locale data: ~6 MB of the Node binary's pages resident for the life of `latchkey serve` or `id`.
 * Here they are made on first use instead; same messages. The build fails if the file no longer
 * reads as expected (an upgrade changed it), rather than quietly bringing the cost back.
 */
export const lazyOidcProviderListFormat: Plugin = {
  name: 'latchkey-lazy-oidc-provider-listformat',
  setup(b) {
    b.onLoad({ filter: /\/node_modules\/oidc-provider\/lib\/helpers\/formatters\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const pattern = /^const (\w+) = (new Intl\.ListFormat\([^;\n]*\));$/gm;
      const found = text.match(pattern)?.length ?? 0;
      if (found !== 2) throw new Error(`${args.path}: expected two top-level Intl.ListFormat constants, found ${found}; update scripts/bundle-plugins.ts`);
      return {
        contents: text.replace(pattern, (_all, name: string, make: string) => `let ${name}$made;\nconst ${name} = { format: (list) => (${name}$made ??= ${make}).format(list) };`),
        loader: 'js',
      };
    });
  },
};

/**
 * `import … from 'node:http'` in any package (oidc-provider imports STATUS_CODES that way) loads
 * undici, 13 MB RSS, because Node reads every export of a built-in to make its ES module namespace
 * (src/core/node-http.ts says which and how it was measured). Such imports get that module
 * instead. Only static imports: esbuild then fails the build if one asks for a name the module
 * does not export, instead of the bundle breaking at run time.
 */
export function httpWithoutUndici(shim: string): Plugin {
  return {
    name: 'latchkey-http-without-undici',
    setup(b) {
      b.onResolve({ filter: /^(node:)?http$/ }, (args) => (args.kind === 'import-statement' ? { path: shim } : undefined));
    },
  };
}

/**
 * Modules that would load undici through a global (Headers, Response, Request), and the names of
 * src/core/fetch-classes.ts they get in its place. openid-client (with oauth4webapi) and jose make
 * `new Headers(...)` for every request and check answers with `instanceof Response`, although
 * every answer they get comes from nodeHttpFetch; koa (under oidc-provider) asks of each body it
 * sends whether it is a Response or a ReadableStream.
 */
const WITHOUT_UNDICI: { files: RegExp; names: Record<string, string> }[] = [
  { files: /\/node_modules\/(openid-client|oauth4webapi|jose)\/.*\.js$/, names: { Headers: 'FetchHeaders', Response: 'FetchResponse', Request: 'FetchRequest' } },
  { files: /\/node_modules\/koa\/lib\/(application|response)\.js$/, names: { Response: 'ResponseByTag', ReadableStream: 'ReadableStreamByTag' } },
];

/**
 * In Node the first touch of the global Headers, Response or Request loads undici: 17 MB RSS for
 * a bare process, 3–4 MB more of `latchkey proxy` or `serve`, which already load much of what it
 * needs (docs/benchmarks.md, lever 23). In the bundle, the modules in WITHOUT_UNDICI get `shim`'s
 * classes under those names instead, by a declaration put before their code, so neither server
 * loads undici (test/integration/bundle.test.ts checks after a sign-in). The globals stay Node's
 * for every other module.
 */
export function fetchClassesWithoutUndici(shim: string): Plugin {
  return {
    name: 'latchkey-fetch-classes-without-undici',
    setup(b) {
      for (const { files, names } of WITHOUT_UNDICI) {
        b.onLoad({ filter: files }, (args) => {
          const text = readFileSync(args.path, 'utf8');
          const used = Object.entries(names).filter(([global]) => new RegExp(`\\b${global}\\b`).test(text));
          if (!used.length) return { contents: text, loader: 'js' };
          // The declaration suits the module's kind; either way a module declaring one of the names itself fails the build.
          const isCommonJs = /\brequire\(/.test(text) && !/^\s*(import|export)\s/m.test(text);
          const declaration = isCommonJs
            ? `const { ${used.map(([global, local]) => `${local}: ${global}`).join(', ')} } = require(${JSON.stringify(shim)});\n`
            : `import { ${used.map(([global, local]) => `${local} as ${global}`).join(', ')} } from ${JSON.stringify(shim)};\n`;
          return { contents: declaration + text, loader: 'js' };
        });
      }
    },
  };
}

/** What fastify's server.js asks of node:https and node:http2, each made lazy by lazyFastifyServerModules. */
const FASTIFY_LAZY_MODULES: Record<string, string[]> = { https: ['createServer'], http2: ['createServer', 'createSecureServer'] };

/**
 * fastify requires node:https and node:http2 when it loads, only to make an HTTPS or HTTP/2 server
 * if asked to; latchkey never asks (TLS is the reverse proxy's, or `serve --tls-*` with its own
 * server). The two bring TLS and the HTTP/2 stack: ~9 MB RSS in a bare node:http process
 * (docs/benchmarks.md, lever 24). Here each becomes an object whose functions load the module at
 * their first call; same behaviour when they are called. The build fails if the file no longer
 * reads as expected or uses another function of either module, rather than quietly bringing the
 * cost back or breaking at run time.
 */
export const lazyFastifyServerModules: Plugin = {
  name: 'latchkey-lazy-fastify-server-modules',
  setup(b) {
    b.onLoad({ filter: /\/node_modules\/fastify\/lib\/server\.js$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      const code = text.replace(/\/\*[\s\S]*?\*\//g, ''); // JSDoc names types such as http2.Http2Server
      for (const [name, functions] of Object.entries(FASTIFY_LAZY_MODULES)) {
        const line = `const ${name} = require('node:${name}')\n`;
        const used = new Set([...code.matchAll(new RegExp(`\\b${name}\\.(\\w+)`, 'g'))].map((m) => m[1]));
        const unexpected = [...used].filter((fn) => !functions.includes(fn));
        if (!text.includes(line) || unexpected.length) {
          throw new Error(`${args.path}: expected "${line.trim()}" and only ${functions.join(', ')} of it${unexpected.length ? `, found ${unexpected.join(', ')}` : ''}; update scripts/bundle-plugins.ts`);
        }
        const lazy = functions.map((fn) => `${fn}: (...args) => require('node:${name}').${fn}(...args)`).join(', ');
        text = text.replace(line, `const ${name} = { ${lazy} }\n`);
      }
      return { contents: text, loader: 'js' };
    });
  },
};

/**
 * CommonJS requires of Node built-ins (or of packages that load one) that dependencies make when
 * they load, only for code latchkey runs rarely or never; each becomes a stand-in that requires
 * the module at its first use. With builtinsWithoutNamespace below they keep ~35 of Node's own
 * modules out of `latchkey proxy` (docs/benchmarks.md, lever 34).
 * - `assert` (find-my-way, fastify's plugin checks, light-my-request, sonic-boom, thread-stream):
 *   only ever called as `assert(value, message)`, which the stand-in checks itself; a failed check
 *   throws node:assert's own AssertionError.
 * - `perf_hooks` (fastify's request timer): `performance.now()`, only ever subtracted from another
 *   reading, so process.hrtime's monotonic clock does as well.
 * - `worker_threads` (pino asks whether a logger is made on the main thread, to flush it at exit):
 *   latchkey makes none in a worker thread, so the answer is written in.
 * - `thread-stream` (pino's worker-thread transports, which latchkey does not use): made at the
 *   first `new ThreadStream()`.
 * The build fails if a file no longer reads as expected (an upgrade changed it), rather than quietly
 * bringing the cost back or breaking at run time; test/integration/bundle.test.ts checks that the
 * proxy, after a whole sign-in, has none of these loaded.
 */
const LAZY_REQUIRES: { files: RegExp; line: RegExp; replacement: string; unexpected?: RegExp }[] = [
  {
    files: /\/node_modules\/(find-my-way\/(index|lib\/constrainer|lib\/strategies\/accept-(host|version))|fastify\/lib\/plugin-utils|light-my-request\/(index|lib\/request)|sonic-boom\/index|thread-stream\/index)\.js$/,
    line: /^const assert = require\((['"])(node:)?assert\1\)$/m,
    replacement: "const assert = (value, message) => { if (!value) require('node:assert').ok(value, message) }",
    // nothing but calls: assert.equal and the like would need the real module
    unexpected: /\bassert\s*\.\s*\w/,
  },
  {
    files: /\/node_modules\/fastify\/lib\/logger-factory\.js$/,
    line: /^const \{ performance \} = require\('node:perf_hooks'\)$/m,
    // fastify only subtracts two readings (reply.elapsedTime); Node's global performance would load perf_hooks too
    replacement: 'const performance = { now: () => Number(process.hrtime.bigint()) / 1e6 }',
  },
  {
    files: /\/node_modules\/pino\/lib\/tools\.js$/,
    line: /^const \{ isMainThread \} = require\('worker_threads'\)$/m,
    replacement: 'const isMainThread = true',
  },
  {
    files: /\/node_modules\/pino\/lib\/transport\.js$/,
    line: /^const ThreadStream = require\('thread-stream'\)$/m,
    replacement: "function ThreadStream (options) { return new (require('thread-stream'))(options) }",
  },
];

export const lazyRequiredBuiltins: Plugin = {
  name: 'latchkey-lazy-required-builtins',
  setup(b) {
    for (const { files, line, replacement, unexpected } of LAZY_REQUIRES) {
      b.onLoad({ filter: files }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
        if (!line.test(text) || (unexpected && unexpected.test(code))) {
          throw new Error(`${args.path}: expected ${line} and no ${unexpected ?? 'other use'}; update scripts/bundle-plugins.ts`);
        }
        return { contents: text.replace(line, replacement), loader: 'js' };
      });
    }
  },
};

/**
 * Exports of Node built-ins that load other modules when first read (V8 lazy properties: even
 * Object.getOwnPropertyDescriptor reads them), which latchkey never uses. Found by reading each
 * export of a fresh process's built-in and watching process.moduleLoadList.
 */
const LOADED_ON_READ: Record<string, string[]> = {
  // the stream stack and the diff engine; node:worker_threads and the Web Locks API; AbortSignal plumbing
  util: ['diff', 'setTraceSigInt', 'transferableAbortSignal', 'transferableAbortController', 'aborted'],
  // node:fs/promises (with readline and the REPL's history), the file streams; deprecated aliases
  fs: ['promises', 'ReadStream', 'WriteStream', 'FileReadStream', 'FileWriteStream', 'Utf8Stream', 'F_OK', 'R_OK', 'W_OK', 'X_OK'],
  // the Web Crypto API (the global crypto stays Node's); deprecated aliases
  crypto: ['webcrypto', 'subtle', 'getRandomValues', 'fips', 'prng', 'pseudoRandomBytes', 'rng'],
  timers: ['promises'],
  dns: ['promises'],
};

/**
 * `import * as fs from 'node:fs'` then `fs.promises`: esbuild would make that undefined, and
 * says so only outside node_modules, so such a use fails the build here, wherever it is.
 */
function refuseNamespaceUse(importer: string, builtin: string): void {
  const text = readFileSync(importer, 'utf8');
  const name = builtin.replace(/^node:/, '');
  for (const [, local] of text.matchAll(new RegExp(`import\\s*\\*\\s*as\\s+([\\w$]+)\\s+from\\s*['"](node:)?${name}['"]`, 'g'))) {
    const used = new RegExp(`\\b${local.replace('$', '\\$')}\\s*\\.\\s*(${LOADED_ON_READ[name].join('|')})\\b`).exec(text);
    if (used) throw new Error(`${importer}: reads ${builtin}'s ${used[1]} through a namespace import, which the bundle leaves out (LOADED_ON_READ); update scripts/bundle-plugins.ts`);
  }
}

/**
 * `import … from 'node:util'` makes Node build the ES module namespace of node:util, which reads
 * every export, and the exports in LOADED_ON_READ load modules when read: util.setTraceSigInt
 * brings node:worker_threads, fs.promises brings node:fs/promises with readline, and so on. In the
 * bundle such imports (ours and packages') get a module that takes the built-in with
 * process.getBuiltinModule (no namespace) and reads every other export (docs/benchmarks.md,
 * lever 34). Importing one of those names by name fails the build ("No matching export"); code
 * that needs one imports its own module (node:fs/promises, node:timers/promises) or reads it from
 * the default export. test/integration/bundle.test.ts checks that neither server loads them.
 */
export const builtinsWithoutNamespace: Plugin = {
  name: 'latchkey-builtins-without-namespace',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${Object.keys(LOADED_ON_READ).join('|')})$`);
    b.onResolve({ filter }, (args) => {
      if (args.kind !== 'import-statement') return undefined;
      refuseNamespaceUse(args.importer, args.path);
      return { path: args.path.startsWith('node:') ? args.path : `node:${args.path}`, namespace: 'latchkey-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'latchkey-builtin' }, (args) => {
      const skipped = new Set(LOADED_ON_READ[args.path.slice('node:'.length)]);
      // Names only: listing them reads no value.
      const names = Object.getOwnPropertyNames(process.getBuiltinModule(args.path))
        .filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default' && !skipped.has(name));
      return { contents: `const builtin = process.getBuiltinModule(${JSON.stringify(args.path)});\nexport default builtin;\nexport const { ${names.join(', ')} } = builtin;\n`, loader: 'js' };
    });
  },
};
