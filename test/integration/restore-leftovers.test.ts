// A restore or backup that is killed halfway cannot remove its scratch folder, which holds a whole
// copy of the database. The next run in the same place removes such folders and names them, but
// never one that another run is still using, one changed in the last minutes, another user's, or
// a link.
import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openMigratedDatabase } from '../../src/storage/database.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/backends.ts';
import { runLatchkey } from '../helpers/latchkey-cli.ts';

const KEY = 'test-encryption-key-0123456789abcdef';
const envFor = (db: string, extra: Record<string, string> = {}) => ({ APP_URL: 'http://localhost:1411', DB_CONNECTION_STRING: db, ENCRYPTION_KEY: KEY, ...extra });
const HOUR_MS = 3_600_000;

/** A scratch folder as a killed run leaves it: a copy of the database inside, last changed `ageMs` ago. */
function leftover(parent: string, name: string, ageMs = HOUR_MS): string {
  const path = join(parent, name);
  mkdirSync(path, { recursive: true, mode: 0o700 });
  writeFileSync(join(path, 'latchkey.db'), 'every user, email and sealed key');
  const at = (Date.now() - ageMs) / 1000;
  utimesSync(path, at, at);
  return path;
}

describe('scratch folders left by a restore or backup that was killed', () => {
  const work = mkdtempSync(join(tmpdir(), 'latchkey-leftovers-'));
  const source = join(work, 'source', 'latchkey.db');
  let archive: string;
  before(async () => {
    await (await openMigratedDatabase(source)).close();
    const made = await runLatchkey(['backup', '--out', join(work, 'backups'), '--json'], envFor(source));
    assert.equal(made.code, 0, made.stderr);
    archive = (JSON.parse(made.stdout) as { path: string }).path;
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('removes one that a killed --verify left in the temporary folder, and names it', async () => {
    const temporary = join(work, 'tmp-verify');
    const stale = leftover(temporary, '.latchkey-restore-AbC123');
    const run = await runLatchkey(['restore', '--verify', archive], envFor(join(work, 'verify-target', 'latchkey.db'), { TMPDIR: temporary }));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(existsSync(stale), false);
    assert.match(run.stdout, new RegExp(`^Removed ${stale}, left by a restore that was stopped\\.$`, 'm'));
    assert.deepEqual(readdirSync(temporary), []);
  });

  it('removes one that a killed restore left beside the database it restores into', async () => {
    const target = join(work, 'restore-target');
    const stale = leftover(target, '.latchkey-restore-XyZ789');
    const run = await runLatchkey(['restore', archive], envFor(join(target, 'latchkey.db')));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(existsSync(stale), false);
    assert.match(run.stdout, /left by a restore that was stopped\./);
    assert.deepEqual(readdirSync(target), ['latchkey.db']);
  });

  it('removes one that a killed backup left in --out', async () => {
    const out = join(work, 'backups-with-leftover');
    const stale = leftover(out, '.latchkey-backup-Qw3rTy');
    const run = await runLatchkey(['backup', '--out', out, '--json'], envFor(source));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(existsSync(stale), false);
    assert.deepEqual((JSON.parse(run.stdout) as { leftovers: { removed: string[] } }).leftovers.removed, [stale]);
  });

  it('leaves one changed in the last minutes (a restore that is starting), another user\'s, and a link', async () => {
    const temporary = join(work, 'tmp-keep');
    const recent = leftover(temporary, '.latchkey-restore-recent', 60_000);
    const elsewhere = leftover(work, 'elsewhere');
    symlinkSync(elsewhere, join(temporary, '.latchkey-restore-Link00'));
    const kept = [recent, join(temporary, '.latchkey-restore-Link00')];
    if (process.getuid?.() === 0) {
      const theirs = leftover(temporary, '.latchkey-restore-theirs');
      chownSync(theirs, 4321, 4321);
      kept.push(theirs);
    }
    const run = await runLatchkey(['restore', '--verify', archive], envFor(join(work, 'keep-target', 'latchkey.db'), { TMPDIR: temporary }));
    assert.equal(run.code, 0, run.stderr);
    for (const path of kept) assert.ok(existsSync(path), `${path} is still there`);
    assert.ok(existsSync(join(elsewhere, 'latchkey.db')), 'nothing was removed through the link');
    assert.doesNotMatch(run.stdout, /left by a restore that was stopped/);
  });
});

describe('the scratch folder of a restore that is still running', () => {
  const work = mkdtempSync(join(tmpdir(), 'latchkey-leftovers-running-'));
  const temporary = join(work, 'tmp');
  let database: TestPostgres;
  after(async () => {
    await database?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('is never removed by another restore, however old it looks', async () => {
    database = await createTestPostgres();
    await (await openMigratedDatabase(database.url)).close();
    const made = await runLatchkey(['backup', '--out', join(work, 'backups'), '--json'], envFor(database.url));
    assert.equal(made.code, 0, made.stderr);
    const pgArchive = (JSON.parse(made.stdout) as { path: string }).path;
    const sqlite = join(work, 'sqlite', 'latchkey.db');
    await (await openMigratedDatabase(sqlite)).close();
    const sqliteMade = await runLatchkey(['backup', '--out', join(work, 'backups'), '--json'], envFor(sqlite));
    assert.equal(sqliteMade.code, 0, sqliteMade.stderr);
    const sqliteArchive = (JSON.parse(sqliteMade.stdout) as { path: string }).path;

    // a psql that takes its time, so the first restore is still running while the second starts
    const realPsql = (process.env.PATH ?? '').split(':').map((dir) => join(dir, 'psql')).find((path) => existsSync(path));
    const slowTools = join(work, 'slow-tools');
    mkdirSync(slowTools);
    writeFileSync(join(slowTools, 'psql'), `#!/bin/sh\nsleep 4\nexec "${realPsql}" "$@"\n`, { mode: 0o755 });
    mkdirSync(temporary);
    const first = runLatchkey(['restore', '--force', pgArchive], envFor(database.url, { TMPDIR: temporary, PATH: `${slowTools}:${process.env.PATH ?? ''}` }));
    let running: string | undefined;
    for (let waited = 0; !running && waited < 10_000; waited += 50) {
      running = readdirSync(temporary).find((name) => name.startsWith('.latchkey-restore-'));
      if (!running) await sleep(50);
    }
    assert.ok(running, 'the first restore made its scratch folder');
    const at = (Date.now() - HOUR_MS) / 1000;
    utimesSync(join(temporary, running), at, at); // as old as a leftover

    const second = await runLatchkey(['restore', '--verify', sqliteArchive], envFor(join(work, 'verify-target', 'latchkey.db'), { TMPDIR: temporary }));
    assert.equal(second.code, 0, second.stderr);
    assert.ok(existsSync(join(temporary, running, 'latchkey.sql')), 'the running restore\'s folder and its dump are still there');
    assert.doesNotMatch(second.stdout, /left by a restore that was stopped/);
    const firstRun = await first;
    assert.equal(firstRun.code, 0, firstRun.stderr);
    assert.deepEqual(readdirSync(temporary), []);
  });
});
