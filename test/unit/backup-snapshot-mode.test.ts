// The snapshot a backup takes (every user, email and sealed key) is readable by its owner only
// while it is taken, whatever the umask: a backup killed half-way must not leave a world-readable
// copy of the database in a shared folder.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
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
