// latchkey rotate-keys from a shell whose ENCRYPTION_KEY is not the server's. It used to make a
// new current key sealed with that wrong key: the running server then failed every key reload,
// and latchkey id (with either key) and latchkey backup refused to start or run from then on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../../src/storage/database.ts';
import { runLatchkey, scratchCommandEnv } from '../helpers/latchkey-cli.ts';

describe('latchkey rotate-keys with another ENCRYPTION_KEY than the one the keys are sealed with', () => {
  const { env } = scratchCommandEnv('latchkey-rotate-wrong-key-');
  const keyRows = async () => {
    const database = await openDatabase(env.DB_CONNECTION_STRING);
    try {
      return (await database.db.selectFrom('signing_keys').select('kid').execute()).map((row) => row.kid).sort();
    } finally {
      await database.close();
    }
  };

  it('refuses, changing nothing, and the right key still rotates', async () => {
    const first = await runLatchkey(['rotate-keys'], env);
    assert.equal(first.code, 0, first.stderr);
    const before = await keyRows();
    assert.equal(before.length, 1);

    const wrong = await runLatchkey(['rotate-keys'], { ...env, ENCRYPTION_KEY: 'another-encryption-key-0123456789' });
    assert.equal(wrong.code, 1, wrong.stdout);
    assert.equal(wrong.stderr.trim(), 'latchkey rotate-keys: The configured ENCRYPTION_KEY does not open the current signing key, so no new key was made (one sealed with it would keep latchkey id from starting); use the ENCRYPTION_KEY latchkey id runs with.');
    assert.deepEqual(await keyRows(), before, 'no key was added');

    const right = await runLatchkey(['rotate-keys'], env);
    assert.equal(right.code, 0, right.stderr);
    assert.equal((await keyRows()).length, 2);
    const backup = await runLatchkey(['backup', '--out', `${env.DB_CONNECTION_STRING}-backups`], env);
    assert.equal(backup.code, 0, backup.stderr);
  });
});
