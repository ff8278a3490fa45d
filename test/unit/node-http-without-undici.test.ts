// src/core/node-http.ts and the bundle's httpWithoutUndici plugin exist because an ES import of
// node:http loads undici (13 MB RSS) on this Node. The first case checks that premise, so the day a
// Node release stops doing it, this test says the workaround can go; the others, that the way in
// we use does not load it, in the sources and in a bundle of a package that imports node:http.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { httpWithoutUndici } from '../../scripts/bundle-plugins.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = join(root, 'node_modules/.bin/node');
const shim = join(root, 'src/core/node-http.ts');
const dir = mkdtempSync(join(tmpdir(), 'latchkey-http-undici-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `body` as an ES module file (`node -e` loads undici on its own) and says whether undici got loaded. */
function loadsUndici(name: string, body: string): boolean {
  const file = join(dir, name);
  writeFileSync(file, `${body}\nconsole.log(process.moduleLoadList.some((m) => m.includes('undici')));\n`);
  return execFileSync(node, [file], { encoding: 'utf8' }).trim() === 'true';
}

describe('node:http without undici', () => {
  it('an ES import of node:http loads undici (the premise: Node reads every export, three of them are undici getters)', () => {
    assert.equal(loadsUndici('premise.mjs', "import { createServer } from 'node:http';\ncreateServer;"), true);
    assert.equal(loadsUndici('builtin.mjs', "process.getBuiltinModule('node:http').createServer;"), false);
  });

  it('src/core/node-http.ts gives the same functions without loading it', () => {
    assert.equal(loadsUndici('shim.mts', `import { Agent, createServer, request, STATUS_CODES } from ${JSON.stringify(shim)};\nif (STATUS_CODES[404] !== 'Not Found' || typeof createServer !== 'function' || typeof request !== 'function' || typeof Agent !== 'function') throw new Error('not node:http');`), false);
  });

  it('in the bundle, a package\'s `import … from \'node:http\'` is sent to it', async () => {
    const entry = join(dir, 'package-entry.mjs');
    writeFileSync(entry, "import { STATUS_CODES } from 'node:http';\nconsole.log(STATUS_CODES[403]);\n");
    const outfile = join(dir, 'bundled.mjs');
    await build({ entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'node', plugins: [httpWithoutUndici(shim)], logLevel: 'silent' });
    assert.equal(execFileSync(node, [outfile], { encoding: 'utf8' }).trim(), 'Forbidden');
    assert.equal(loadsUndici('bundled-check.mjs', `await import(${JSON.stringify(outfile)});`), false);
  });

  it('the build fails, rather than the bundle at run time, when a package imports a name the module does not give', async () => {
    const entry = join(dir, 'missing-name.mjs');
    writeFileSync(entry, "import { METHODS } from 'node:http';\nconsole.log(METHODS);\n");
    await assert.rejects(build({ entryPoints: [entry], outfile: join(dir, 'missing.mjs'), bundle: true, format: 'esm', platform: 'node', plugins: [httpWithoutUndici(shim)], logLevel: 'silent' }), /METHODS/);
  });
});
