// An admin command run without DB_CONNECTION_STRING uses data/latchkey.db under the current
// folder, as latchkey id does. Run from another folder than the server (the guide's environment
// sets no DB_CONNECTION_STRING), it used to make a new, empty database there and answer from it
// without a word: "No users yet.", or a setup link the running server does not know.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pinnedNode, repoRoot } from '../helpers/latchkey-cli.ts';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'latchkey-cli-default-db-')));
after(() => rmSync(dir, { recursive: true, force: true }));

async function runIn(cwd: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(pinnedNode, [join(repoRoot, 'src/main.ts'), ...args], {
    cwd, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', APP_URL: 'https://id.example.com', ENCRYPTION_KEY: 'cli-test-encryption-key-0123456789', ...env }, timeout: 20_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const [code] = await once(child, 'exit');
  return { code, stdout, stderr };
}

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
