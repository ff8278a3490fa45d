// latchkey restore as an operator runs it for a service: often as root, into a folder owned by the
// service's user. The restored database must open for that user, and a refused restore must leave
// no trace, not even the folder it made. Its copy of the backed-up database goes where no other
// user can read it, whatever they placed at the names restore used to write it to.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBackup } from '../../src/storage/backup/create-backup.ts';
import { restoreBackup, type RestoreInput } from '../../src/storage/backup/restore-backup.ts';
import { openMigratedDatabase } from '../../src/storage/database.ts';

const KEY = Buffer.from('test-encryption-key-0123456789abcdef');
// Only root may give a file away; as another user the test checks the mode and keeps its own ids.
const SERVICE = process.getuid?.() === 0 ? { uid: 4321, gid: 4322 } : { uid: process.getuid!(), gid: process.getgid!() };

describe('latchkey restore and the files it leaves', () => {
  const work = mkdtempSync(join(tmpdir(), 'latchkey-restore-owner-'));
  let archivePath: string;
  const restore = (target: string, options: Partial<RestoreInput> = {}) => restoreBackup({
    archivePath, dbConnectionString: join(target, 'latchkey.db'), encryptionKey: KEY, force: false, verifyOnly: false,
    keyOpensSigningKey: async () => null, ...options,
  });

  before(async () => {
    const source = join(work, 'source', 'latchkey.db');
    await (await openMigratedDatabase(source)).close();
    ({ path: archivePath } = await createBackup({
      dbConnectionString: source, encryptionKey: KEY, outDir: join(work, 'backups'), latchkeyVersion: '0.0.0-test',
      now: () => new Date(Date.now() + 60_000), keyOpensSigningKey: async () => null,
    }));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('gives the restored database the owner, group and mode of the file it replaces', async () => {
    const target = join(work, 'replace');
    mkdirSync(target);
    copyFileSync(join(work, 'source', 'latchkey.db'), join(target, 'latchkey.db'));
    chownSync(join(target, 'latchkey.db'), SERVICE.uid, SERVICE.gid);
    chmodSync(join(target, 'latchkey.db'), 0o640);
    const result = await restore(target);
    assert.equal(result.restored, true);
    assert.ok(result.previousKeptAt);
    const restored = statSync(join(target, 'latchkey.db'));
    assert.deepEqual({ uid: restored.uid, gid: restored.gid, mode: restored.mode & 0o777 }, { ...SERVICE, mode: 0o640 });
    assert.notEqual(restored.ino, statSync(result.previousKeptAt).ino, 'a new file, not the old one');
    assert.deepEqual(result.warnings, []);
  });

  it('gives a first restore the owner and group of its folder, readable by that owner alone', async () => {
    const target = join(work, 'first');
    mkdirSync(target, { mode: 0o750 });
    chownSync(target, SERVICE.uid, SERVICE.gid);
    await restore(target);
    const restored = statSync(join(target, 'latchkey.db'));
    assert.deepEqual({ uid: restored.uid, gid: restored.gid, mode: restored.mode & 0o777 }, { ...SERVICE, mode: 0o600 });
  });

  it('removes the folder it made when the restore is refused', async () => {
    const target = join(work, 'missing', 'data');
    await assert.rejects(restore(target, { encryptionKey: Buffer.from('another-key-of-enough-length') }), { code: 'restore_wrong_key' });
    assert.equal(existsSync(join(work, 'missing')), false);
  });

  it('keeps a folder that was there before a refused restore', async () => {
    const target = join(work, 'kept');
    mkdirSync(target);
    await assert.rejects(restore(target, { encryptionKey: Buffer.from('another-key-of-enough-length') }), { code: 'restore_wrong_key' });
    assert.equal(existsSync(target), true);
  });

  it('never writes the copy a --verify makes through a link, nor into a file, another user placed at the name it used in the temporary folder', async () => {
    // the name restore --verify used: /tmp/.<db>.restore-<pid>.partial, made with createWriteStream;
    // a temporary folder of this test's own (os.tmpdir() reads TMPDIR), so it alone is looked at
    const temporary = join(work, 'tmp');
    mkdirSync(temporary);
    const previousTmpdir = process.env.TMPDIR;
    process.env.TMPDIR = temporary;
    const planted = join(tmpdir(), `.latchkey.db.restore-${process.pid}.partial`);
    const victim = join(work, 'victim.txt');
    writeFileSync(victim, 'a file the link points at');
    try {
      symlinkSync(victim, planted);
      await restore(join(work, 'verify-link'), { verifyOnly: true });
      assert.equal(readFileSync(victim, 'utf8'), 'a file the link points at', 'nothing was written through the link');
      rmSync(planted, { force: true });
      // another user's file, which they hold open to read whatever is written into it
      writeFileSync(planted, 'planted', { mode: 0o644 });
      const theirs = openSync(planted, 'r');
      try {
        await restore(join(work, 'verify-file'), { verifyOnly: true });
        const seen = Buffer.alloc(64);
        assert.equal(seen.toString('utf8', 0, readSync(theirs, seen, 0, seen.length, 0)), 'planted', 'nothing was written into their file');
      } finally {
        closeSync(theirs);
      }
      assert.deepEqual(readdirSync(temporary), [planted.split('/').at(-1)], 'the private folder it used instead is removed afterwards');
    } finally {
      if (previousTmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previousTmpdir;
    }
  });

  it('never writes the restored database through a link placed at the name it used beside the target, nor renames that link over the target', async () => {
    const target = join(work, 'beside');
    mkdirSync(target);
    const victim = join(work, 'victim-beside.txt');
    writeFileSync(victim, 'a file the link points at');
    symlinkSync(victim, join(target, `.latchkey.db.restore-${process.pid}.partial`));
    const result = await restore(target);
    assert.equal(result.restored, true);
    assert.equal(readFileSync(victim, 'utf8'), 'a file the link points at');
    assert.ok(lstatSync(join(target, 'latchkey.db')).isFile(), 'the restored database is a file of its own');
    assert.equal(statSync(join(target, 'latchkey.db')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(target).sort(), [`.latchkey.db.restore-${process.pid}.partial`, 'latchkey.db'], 'nothing else is left beside it');
  });
});
