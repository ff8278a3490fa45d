// The expiry sweep (sweepExpired, every five minutes in every `latchkey id`) keeps the short-lived
// tables small. It must find what expired through an index, never by reading every row, or its
// cost grows with everything stored (issue #8, target 6; migration 0004 added the missing index on
// web_sessions). Each statement the sweep runs is captured and explained on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompiledQuery, Kysely, PostgresDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import { manualClock } from '../../src/core/clock.ts';
import { migrateToLatest } from '../../src/storage/database.ts';
import { sweepExpired } from '../../src/storage/ephemeral-store.ts';
import type { Schema } from '../../src/storage/schema.ts';
import { createSqliteDialect, openSqlite } from '../../src/storage/sqlite-dialect.ts';
import { createTestPostgres } from '../helpers/backends.ts';

interface Backend {
  db: Kysely<Schema>;
  /** Whether the planner reads a whole table (or a whole index) for `query`. */
  scansWholeTable(query: CompiledQuery): Promise<string | null>;
  close(): Promise<void>;
}

/** Runs the sweep on a migrated database and returns the statements it ran. */
async function sweepStatements(open: (log: (event: LogEvent) => void) => Promise<Backend>): Promise<{ backend: Backend; statements: CompiledQuery[] }> {
  const statements: CompiledQuery[] = [];
  let capturing = false;
  const backend = await open((event) => { if (capturing && event.level === 'query') statements.push(event.query); });
  await migrateToLatest(backend.db);
  capturing = true;
  await sweepExpired(backend.db, manualClock(Date.now()));
  capturing = false;
  return { backend, statements };
}

const cases: Record<string, (log: (event: LogEvent) => void) => Promise<Backend>> = {
  async SQLite(log) {
    const db = new Kysely<Schema>({ dialect: createSqliteDialect(openSqlite(':memory:')), log });
    return {
      db,
      async scansWholeTable(query) {
        // EXPLAIN QUERY PLAN says SEARCH for an index lookup and SCAN for reading everything.
        const { rows } = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]));
        return rows.find((row) => row.detail.startsWith('SCAN'))?.detail ?? null;
      },
      close: () => db.destroy(),
    };
  },
  async PostgreSQL(log) {
    const postgres = await createTestPostgres();
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: postgres.url, max: 1 }) }), log });
    return {
      db,
      // An empty table is cheapest to read whole, so the planner is told to avoid that when it
      // can: a sequential scan that remains means no index can answer the query.
      scansWholeTable: (query) => db.connection().execute(async (connection) => {
        await connection.executeQuery(CompiledQuery.raw('set enable_seqscan = off'));
        const { rows } = await connection.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${query.sql}`, [...query.parameters]));
        return rows.map((row) => row['QUERY PLAN']).find((line) => line.includes('Seq Scan')) ?? null;
      }),
      async close() {
        await db.destroy();
        await postgres.drop();
      },
    };
  },
};

for (const [name, open] of Object.entries(cases)) {
  describe(`the expiry sweep on ${name}`, () => {
    it('finds expired rows through an index in every table it sweeps', async () => {
      const { backend, statements } = await sweepStatements(open);
      try {
        assert.ok(statements.length >= 3, `the sweep ran ${statements.length} statements`);
        for (const statement of statements) {
          assert.equal(await backend.scansWholeTable(statement), null, `reads the whole table: ${statement.sql}`);
        }
      } finally {
        await backend.close();
      }
    });
  });
}
