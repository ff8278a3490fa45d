// The snapshot a backup takes (every user, email and sealed key) is readable by its owner only
// while it is taken, whatever the umask: a backup killed half-way must not leave a world-readable
// copy of the database in a shared folder. Nor may another user who can write to that folder read
// the archive by placing a file, or a link, at the name it is written to before it is renamed.
import assert from 'node:assert/strict';
import { closeSync, lstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { sha256OfFile, writeArchive } from '../../src/storage/backup/archive.ts';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, type BackupManifest } from '../../src/storage/backup/manifest.ts';
import { snapshotSqlite } from '../../src/storage/backup/snapshot.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-snapshot-mode-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('a SQLite snapshot', () => {
  it('is made 0600 under a umask of 022, also where a stale partial file of the same name was left', async () => {
    const source = join(dir, 'latchkey.db');
    const db = new DatabaseSync(source);
    db.exec('create table t (x text); insert into t values (\'secret\')');
    db.close();
    const destination = join(dir, '.latchkey.db.123.partial');
    writeFileSync(destination, 'left by a killed backup', { mode: 0o644 });
    const previous = process.umask(0o022);
    try {
      await snapshotSqlite(source, destination);
    } finally {
      process.umask(previous);
    }
    assert.equal(statSync(destination).mode & 0o777, 0o600);
    const copy = new DatabaseSync(destination);
    assert.deepEqual(copy.prepare('select x from t').all().map((row) => row.x), ['secret']);
    copy.close();
  });
});

describe('a backup archive', () => {
  const manifestOf = async (payload: string): Promise<BackupManifest> => {
    const { sha256, bytes } = await sha256OfFile(payload);
    return {
      format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, latchkeyVersion: '0.0.0-test', createdAt: new Date().toISOString(),
      database: { kind: 'sqlite', file: 'latchkey.db', bytes, sha256, migrations: ['0001'], lastWriteAt: null }, encryptionKeyFingerprint: 'sha256:00000000000000000000000000000000',
    };
  };

  it('is never written through a link, nor into a file, placed at its temporary name', async () => {
    const payload = join(dir, 'payload.db');
    writeFileSync(payload, 'every user, email and sealed key');
    const manifest = await manifestOf(payload);
    const archive = join(dir, 'latchkey-backup-1.tar.gz');
    // the name writeArchive writes to before the rename (a backup gives it one in its private folder)
    const planted = join(dir, 'archive-1.tmp');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'a file the link points at');
    symlinkSync(victim, planted);
    await writeArchive(archive, manifest, payload, planted);
    assert.equal(readFileSync(victim, 'utf8'), 'a file the link points at', 'nothing was written through the link');
    assert.ok(lstatSync(archive).isFile(), 'the archive is a file of its own, not the link renamed');
    assert.equal(statSync(archive).mode & 0o777, 0o600);

    const second = join(dir, 'latchkey-backup-2.tar.gz');
    const plantedFile = join(dir, 'archive-2.tmp');
    writeFileSync(plantedFile, 'planted', { mode: 0o666 });
    const theirs = openSync(plantedFile, 'r'); // held open, to read whatever is written into it
    try {
      const previous = process.umask(0);
      try {
        await writeArchive(second, manifest, payload, plantedFile);
      } finally {
        process.umask(previous);
      }
      const seen = Buffer.alloc(64);
      assert.equal(seen.toString('utf8', 0, readSync(theirs, seen, 0, seen.length, 0)), 'planted', 'nothing was written into their file');
    } finally {
      closeSync(theirs);
    }
    assert.equal(statSync(second).mode & 0o777, 0o600, 'not the planted file\'s mode');
  });
});
