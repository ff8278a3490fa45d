// A migrated-database test that asks whether a statement reads a whole table: Kysely on SQLite
// (in memory) or on a fresh PostgreSQL database, logging every query to `log`, with the planner's
// answer for a captured statement. Used by the expiry-sweep and user-lookup plan tests.
import { CompiledQuery, Kysely, PostgresDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import type { Schema } from '../../src/storage/schema.ts';
import { createSqliteDialect, openSqlite } from '../../src/storage/sqlite-dialect.ts';
import { createTestPostgres } from './backends.ts';

export interface PlanBackend {
  db: Kysely<Schema>;
  /** The plan line that reads a whole table for `query` (SQLite's SCAN, PostgreSQL's Seq Scan), or null when an index answers it. */
  scansWholeTable(query: CompiledQuery): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * `seqScan: 'discouraged'` tells PostgreSQL to avoid sequential scans where it can, for nearly
 * empty tables (cheapest to read whole): one that remains means no index can answer. 'allowed'
 * plans as a deployment would, for tests that seed and analyze.
 */
export function planBackends(seqScan: 'discouraged' | 'allowed'): Record<'SQLite' | 'PostgreSQL', (log: (event: LogEvent) => void) => Promise<PlanBackend>> {
  return {
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
        scansWholeTable: (query) => db.connection().execute(async (connection) => {
          if (seqScan === 'discouraged') await connection.executeQuery(CompiledQuery.raw('set enable_seqscan = off'));
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
}
