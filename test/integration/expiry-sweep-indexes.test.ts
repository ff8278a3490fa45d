// The expiry sweep (sweepExpired, every five minutes in every `latchkey id`) keeps the short-lived
// tables small and the audit log within its retention. It must find what expired through an index,
// never by reading every row, or its cost grows with everything stored (issue #8, target 6;
// migration 0004 added the missing index on web_sessions; the audit log's is audit_log_created_at
// from 0001). Each statement the sweep runs is captured and explained on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CompiledQuery, LogEvent } from 'kysely';
import { DEFAULT_AUDIT_LOG_RETENTION_DAYS } from '../../src/config/id-config.ts';
import { manualClock } from '../../src/core/clock.ts';
import { migrateToLatest } from '../../src/storage/database.ts';
import { sweepExpired } from '../../src/storage/ephemeral-store.ts';
import { type PlanBackend, planBackends } from '../helpers/query-plans.ts';

/** Runs the sweep on a migrated database and returns the statements it ran. */
async function sweepStatements(open: (log: (event: LogEvent) => void) => Promise<PlanBackend>): Promise<{ backend: PlanBackend; statements: CompiledQuery[] }> {
  const statements: CompiledQuery[] = [];
  let capturing = false;
  const backend = await open((event) => { if (capturing && event.level === 'query') statements.push(event.query); });
  await migrateToLatest(backend.db);
  capturing = true;
  await sweepExpired(backend.db, manualClock(Date.now()), { auditLogRetentionDays: DEFAULT_AUDIT_LOG_RETENTION_DAYS });
  capturing = false;
  return { backend, statements };
}

// Nearly empty tables: PostgreSQL is told to avoid sequential scans, so one that remains means no index can answer.
const cases = planBackends('discouraged');

for (const [name, open] of Object.entries(cases)) {
  describe(`the expiry sweep on ${name}`, () => {
    it('finds expired rows through an index in every table it sweeps', async () => {
      const { backend, statements } = await sweepStatements(open);
      try {
        assert.ok(statements.length >= 4, `the sweep ran ${statements.length} statements`);
        for (const statement of statements) {
          assert.equal(await backend.scansWholeTable(statement), null, `reads the whole table: ${statement.sql}`);
        }
      } finally {
        await backend.close();
      }
    });
  });
}
