import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runDoctor } from '../helpers/doctor-deployment.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-doctor-db-mode-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const verdict = async (db: string) => (await runDoctor(['--json', '--offline', '--db', db])).byId('database-file-mode');

describe('doctor: who can read the SQLite database', () => {
  it('fails a database that other users can read, with the chmod that fixes it', async () => {
    const db = join(dir, 'open.db');
    writeFileSync(db, '');
    chmodSync(db, 0o644);
    const check = await verdict(db);
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /other users can read or write .*open\.db \(0644\).*: it holds every account and email address and the audit log, and whoever can write to it can make themselves an admin/);
    assert.equal(check.fix, `chmod 600 ${db}*`);
  });

  it('passes a database readable by its owner only, and skips one that does not exist or PostgreSQL', async () => {
    const db = join(dir, 'closed.db');
    writeFileSync(db, '', { mode: 0o600 });
    chmodSync(db, 0o600);
    assert.equal((await verdict(db)).status, 'ok');
    assert.equal((await verdict(join(dir, 'missing.db'))).status, 'skip');
    assert.equal((await verdict('postgres://127.0.0.1/none')).status, 'skip');
  });
});
