// latchkey backup --out pointing somewhere unusable: one sentence naming the path and the reason
// (no stack trace), exit 1, and nothing left behind.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type CliRun, runLatchkey, scratchCommandEnv } from '../helpers/latchkey-cli.ts';

/** Exit 1 and exactly one line on stderr, naming the path and the reason. */
function assertRefused(run: CliRun, path: string, reason: string) {
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stderr, `latchkey backup: Cannot write a backup to ${path}: ${reason}.\n`);
  assert.equal(run.stdout, '');
}

describe('latchkey backup --out an unusable path', () => {
  const { dir: work, env } = scratchCommandEnv('latchkey-backup-out-');

  it('refuses an existing file, leaving it as it was', async () => {
    const file = join(work, 'not-a-folder');
    writeFileSync(file, 'keep me');
    assertRefused(await runLatchkey(['backup', '--out', file], env), file, 'it is a file, and --out names the folder the backup goes in');
    assert.equal(readFileSync(file, 'utf8'), 'keep me');
    const below = join(file, 'backups');
    assertRefused(await runLatchkey(['backup', '--out', below], env), below, 'part of that path is a file, not a folder');
  });

  it('refuses a folder whose parent does not exist, making no folders', async () => {
    const out = join(work, 'no-such-parent', 'backups');
    assertRefused(await runLatchkey(['backup', '--out', out], env), out, `the folder ${join(work, 'no-such-parent')} does not exist`);
    assert.equal(existsSync(join(work, 'no-such-parent')), false);
  });

  it('refuses a folder it may not write to, writing nothing there', async () => {
    // Mode bits do not stop root (CI and most containers): /sys refuses new files to root as well.
    // (Running the command as nobody instead needs the checkout itself readable by nobody.)
    if (process.getuid?.() === 0) return assertRefused(await runLatchkey(['backup', '--out', '/sys'], env), '/sys', 'permission denied');
    const out = join(work, 'read-only');
    mkdirSync(out);
    chmodSync(out, 0o555);
    assertRefused(await runLatchkey(['backup', '--out', out], env), out, 'permission denied');
    assert.deepEqual(readdirSync(out), []);
  });

  it('refuses a folder where no file can be created though access() allows it (/proc, as root too)', async () => {
    assertRefused(await runLatchkey(['backup', '--out', '/proc'], env), '/proc', 'files cannot be created there');
  });

  it('removes the folder it made when the backup then fails', async () => {
    const out = join(work, 'made-for-nothing');
    const run = await runLatchkey(['backup', '--out', out], { ...env, DB_CONNECTION_STRING: join(work, 'missing.db') });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^latchkey backup: There is no database at .*missing\.db to back up/);
    assert.equal(existsSync(out), false);
  });

  it('leaves no DATA_DIR behind when the backup into its default folder fails', async () => {
    const dataDir = join(work, 'never-used-data');
    const run = await runLatchkey(['backup'], { ...env, DATA_DIR: dataDir, DB_CONNECTION_STRING: join(work, 'missing.db') });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^latchkey backup: There is no database at .*missing\.db to back up/);
    assert.equal(existsSync(dataDir), false);
  });

  it('makes a missing last folder and writes the backup into it', async () => {
    const out = join(work, 'new-folder');
    const run = await runLatchkey(['backup', '--out', out, '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(readdirSync(out), [(JSON.parse(run.stdout) as { path: string }).path.split('/').at(-1)]);
  });
});
