// An admin command run without DB_CONNECTION_STRING uses data/latchkey.db under the current
// folder, as latchkey id does. Run from another folder than the server (the guide's environment
// sets no DB_CONNECTION_STRING), it used to make a new, empty database there and answer from it
// without a word: "No users yet.", or a setup link the running server does not know.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runLatchkey } from '../helpers/latchkey-cli.ts';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'latchkey-cli-default-db-')));
after(() => rmSync(dir, { recursive: true, force: true }));

// as an operator runs them: from a folder of their own, with the id's environment
const runIn = (cwd: string, args: string[], env: Record<string, string> = {}) =>
  runLatchkey(args, { APP_URL: 'https://id.example.com', ENCRYPTION_KEY: 'cli-test-encryption-key-0123456789', ...env }, cwd);

describe('admin commands and the default database path', () => {
  it('say so when they make a new database at the default path, and only then', async () => {
    const first = await runIn(dir, ['user', 'list']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), 'No users yet.');
    assert.ok(existsSync(join(dir, 'data', 'latchkey.db')));
    assert.match(first.stderr, new RegExp(`there was no database at ${join(dir, 'data', 'latchkey.db').replace(/[.]/g, '\\.')}, so a new, empty one was made there: DB_CONNECTION_STRING is not set`));

    const again = await runIn(dir, ['user', 'list']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, '', 'an existing database is used without a note');
  });

  it('say nothing when DB_CONNECTION_STRING names the file, even a new one', async () => {
    const named = await runIn(dir, ['user', 'list'], { DB_CONNECTION_STRING: join(dir, 'named.db') });
    assert.equal(named.code, 0, named.stderr);
    assert.equal(named.stderr, '');
  });
});
