// A new SQLite database holds live tokens (oidc-provider's opaque token values are row ids), so it
// is its owner's alone whatever the umask, with its -wal and -shm files and a folder made for it;
// an existing folder keeps the mode its owner chose.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { migrateToLatest, openDatabase } from '../../src/storage/database.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-db-mode-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (path: string) => statSync(path).mode & 0o777;

async function openUnderUmask022(path: string): Promise<void> {
  const previous = process.umask(0o022);
  try {
    const database = await openDatabase(path);
    await migrateToLatest(database.db);
    // still open, so the -wal and -shm files exist
    assert.equal(modeOf(`${path}-wal`), 0o600);
    assert.equal(modeOf(`${path}-shm`), 0o600);
    await database.close();
  } finally {
    process.umask(previous);
  }
}

describe('a new SQLite database', () => {
  it('is made 0600, in a folder made 0700, under a umask of 022', async () => {
    const path = join(dir, 'data', 'latchkey.db');
    await openUnderUmask022(path);
    assert.equal(modeOf(path), 0o600);
    assert.equal(modeOf(join(dir, 'data')), 0o700);
  });

  it('leaves the mode of an existing folder as its owner set it', async () => {
    const folder = join(dir, 'shared');
    mkdirSync(folder);
    chmodSync(folder, 0o750);
    await openUnderUmask022(join(folder, 'latchkey.db'));
    assert.equal(modeOf(folder), 0o750);
    assert.equal(modeOf(join(folder, 'latchkey.db')), 0o600);
  });
});
