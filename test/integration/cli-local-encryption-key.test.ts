// On localhost without ENCRYPTION_KEY the key is a file the server makes at its first start
// (data/encryption.key). The commands that work on the server's data need that same key: they used
// to make a new one before checking anything, so a refused `backup` left data/encryption.key behind,
// and a refused `restore` on a new machine left a new random key where the old one had to go.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openMigratedDatabase } from '../../src/storage/database.ts';
import { freePort } from '../helpers/free-port.ts';
import { pinnedNode, repoRoot, runLatchkey } from '../helpers/latchkey-cli.ts';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'latchkey-cli-local-key-')));
after(() => rmSync(root, { recursive: true, force: true }));

/** A new, empty folder to run a command in, as on a fresh machine. */
function emptyFolder(name: string): string {
  const folder = join(root, name);
  mkdirSync(folder);
  return folder;
}

const OLD_KEY = 'the-old-servers-key-0123456789abcdef';

const noKeyProblem = (folder: string) =>
  new RegExp(`ENCRYPTION_KEY: not set, and there is no key file at ${join(folder, 'data', 'encryption.key').replace(/[.]/g, '\\.')} \\(latchkey id and latchkey serve make one there at their first start on localhost\\)`);

describe('commands that use the server\'s key, in a folder without one', () => {
  let archive = '';
  before(async () => {
    // a backup made elsewhere, with a key of its own, to restore on the "new machine"
    const server = join(root, 'server');
    mkdirSync(server);
    const env = { DB_CONNECTION_STRING: join(server, 'latchkey.db'), ENCRYPTION_KEY: OLD_KEY };
    await (await openMigratedDatabase(env.DB_CONNECTION_STRING)).close();
    const made = await runLatchkey(['backup', '--out', join(server, 'backups'), '--json'], env, server);
    assert.equal(made.code, 0, made.stderr);
    archive = (JSON.parse(made.stdout) as { path: string }).path;
  });

  it('backup refuses, naming ENCRYPTION_KEY and the key file, and makes no key and no data folder', async () => {
    const folder = emptyFolder('backup');
    const run = await runLatchkey(['backup'], {}, folder);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, noKeyProblem(folder));
    assert.match(run.stderr, /this command uses the server's key and makes none: set ENCRYPTION_KEY \(or ENCRYPTION_KEY_FILE\)/);
    assert.deepEqual(readdirSync(folder), [], 'nothing left behind');
  });

  it('restore refuses, saying which key the backup needs, and leaves no new key where the old one must go', async () => {
    const folder = emptyFolder('restore');
    const run = await runLatchkey(['restore', archive], {}, folder);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, noKeyProblem(folder));
    assert.match(run.stderr, /restore needs the key of the server that made the backup, and makes none/);
    assert.match(run.stderr, /this backup needs the ENCRYPTION_KEY with fingerprint sha256:[0-9a-f]{32}\. Nothing was changed\./);
    assert.deepEqual(readdirSync(folder), [], 'nothing left behind');
  });

  it('restore reads the old server\'s key once it is put in the key file, and leaves the file as it was', async () => {
    const folder = emptyFolder('restore-with-key-file');
    mkdirSync(join(folder, 'data'));
    writeFileSync(join(folder, 'data', 'encryption.key'), OLD_KEY);
    const run = await runLatchkey(['restore', '--verify', archive], {}, folder);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /matches the configured ENCRYPTION_KEY/);
    assert.equal(readFileSync(join(folder, 'data', 'encryption.key'), 'utf8'), OLD_KEY);
  });

  it('setup-link and user add refuse before the server ever ran, saying to start it first, and make nothing', async () => {
    for (const args of [['setup-link'], ['user', 'add', '--username', 'alice']]) {
      const folder = emptyFolder(args.join('-'));
      const run = await runLatchkey(args, {}, folder);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, noKeyProblem(folder));
      assert.match(run.stderr, /on a new installation, start the server \(latchkey id or latchkey serve\) first/);
      assert.deepEqual(readdirSync(folder), [], `${args.join(' ')}: nothing left behind`);
    }
  });

  it('latchkey id still makes the key at its first start', async () => {
    const folder = emptyFolder('id');
    const port = await freePort();
    const child = spawn(pinnedNode, [join(repoRoot, 'src/main.ts'), 'id'], {
      cwd: folder, env: { PATH: process.env.PATH ?? '', APP_URL: `http://localhost:${port}`, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' },
    });
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`latchkey id did not start within 15 s:\n${out}`)), 15_000);
        const poll = setInterval(() => {
          fetch(`http://127.0.0.1:${port}/healthz`).then((response) => {
            if (response.status !== 204) return;
            clearInterval(poll);
            clearTimeout(timer);
            resolve();
          }, () => {});
        }, 100);
        child.stdout.on('data', (chunk) => { out += chunk; });
        child.stderr.on('data', (chunk) => { out += chunk; });
        child.once('exit', (code) => { clearInterval(poll); clearTimeout(timer); reject(new Error(`latchkey id exited ${code}:\n${out}`)); });
      });
    } finally {
      child.kill('SIGKILL');
    }
    assert.ok(existsSync(join(folder, 'data', 'encryption.key')), out);
  });
});
