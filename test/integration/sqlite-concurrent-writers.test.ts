// SQLite with more than one process writing: `latchkey id` runs while an administrator runs
// `latchkey user add`, `client add`, `rotate-keys`… on the same file. Each process here does
// read-then-write transactions through latchkey's own services at the same moment as the others;
// none may fail with "database is locked" (a transaction that read before another process wrote
// cannot then write: SQLITE_BUSY at once, whatever busy_timeout says).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { DatabaseSync } from 'node:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { createIdentity } from '../../src/identity/index.ts';
import { ensureSigningKey } from '../../src/oidc/keys.ts';
import { openMigratedDatabase } from '../../src/storage/database.ts';
import { SQLITE_BUSY_WAIT_MS } from '../../src/storage/sqlite-dialect.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const NODE = join(ROOT, 'node_modules/.bin/node');
const WRITER = join(ROOT, 'test/helpers/sqlite-writer.ts');

interface WriterReport { name: string; operations: number; errors: string[]; maxStallMs: number }

function runWriter(file: string, name: string, iterations: number, startAt: number): Promise<WriterReport> {
  return new Promise((resolve, reject) => {
    execFile(NODE, [WRITER, file, name, String(iterations), String(startAt)], (error, stdout, stderr) => {
      if (error) reject(new Error(`${name} failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as WriterReport);
    });
  });
}

describe('SQLite with several writing processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-sqlite-writers-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serialises read-then-write transactions from concurrent processes instead of failing', async () => {
    const file = join(dir, 'shared.db');
    const database = await openMigratedDatabase(file);
    const identity = createIdentity({ db: database.db, clock: systemClock, sessionTtlSeconds: 3600 });
    await identity.users.create({ username: 'admin', isAdmin: true });
    await identity.groups.create({ name: 'shared' });
    await ensureSigningKey(database.db, systemClock, Buffer.alloc(32, 7), 'ES256');
    await database.close();

    const iterations = 40;
    const startAt = Date.now() + 1500;
    const reports = await Promise.all(['server', 'cli-1', 'cli-2'].map((name) => runWriter(file, name, iterations, startAt)));
    for (const report of reports) assert.deepEqual(report.errors, [], `${report.name}: ${report.errors.length} failures`);

    const check = await openMigratedDatabase(file);
    const users = await createIdentity({ db: check.db, clock: systemClock, sessionTtlSeconds: 3600 }).users.count();
    await check.close();
    assert.equal(users, 1 + 3 * iterations);
  });

  it('lets processes that start together on a new file migrate it once', async () => {
    const file = join(dir, 'fresh.db');
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => openMigratedDatabase(file)));
    // (One process, four connections: their waits must not block each other.)
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).cause ?? r.reason)] : []));
    for (const r of results) if (r.status === 'fulfilled') await r.value.close();
    assert.deepEqual(failures, []);
  });

  it('waits for a held write lock without stopping the event loop, then fails in words', async () => {
    const file = join(dir, 'held.db');
    const database = await openMigratedDatabase(file);
    const identity = createIdentity({ db: database.db, clock: systemClock, sessionTtlSeconds: 3600 });
    // Another process (here another connection) in a long write transaction.
    const other = new DatabaseSync(file);
    const hold = (ms: number) => {
      other.exec('BEGIN IMMEDIATE');
      setTimeout(() => other.exec('ROLLBACK'), ms);
    };
    let maxStallMs = 0;
    let last = performance.now();
    const ticker = setInterval(() => { const now = performance.now(); maxStallMs = Math.max(maxStallMs, now - last); last = now; }, 5);
    try {
      hold(300);
      await identity.users.create({ username: 'patient' });
      hold(SQLITE_BUSY_WAIT_MS + 1000);
      const started = performance.now();
      await assert.rejects(identity.users.update((await identity.users.findByLogin('patient'))!.id, { disabled: true }), { code: 'database_busy', status: 503 });
      assert.ok(performance.now() - started >= SQLITE_BUSY_WAIT_MS - 50);
      // node:sqlite is synchronous: a wait in SQLite's busy handler would have frozen this ticker.
      assert.ok(maxStallMs < 250, `the event loop stalled for ${Math.round(maxStallMs)} ms`);
    } finally {
      clearInterval(ticker);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      other.close();
      await database.close();
    }
  });
});
