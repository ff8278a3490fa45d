import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kysely, Migrator, PostgresDialect, type Transaction } from 'kysely';
import { AppError } from '../core/errors.ts';
import { appliedMigrations } from './backup/database-facts.ts';
import { migrationProvider } from './migrations/index.ts';
import type { Schema } from './schema.ts';
import { createSqliteDialect, openSqlite } from './sqlite-dialect.ts';

export type Db = Kysely<Schema>;
export type DbOrTransaction = Kysely<Schema> | Transaction<Schema>;

export interface Database {
  db: Db;
  kind: 'sqlite' | 'postgres';
  /** The SQLite file, for backup; null for PostgreSQL. */
  sqlitePath: string | null;
  close(): Promise<void>;
}

export const isPostgresUrl = (connection: string): boolean => /^postgres(ql)?:\/\//i.test(connection);

/** Parses `DB_CONNECTION_STRING`: a postgres:// URL, or a SQLite file path (`file:` prefix allowed). */
export function sqlitePathOf(connection: string): string {
  const path = connection.replace(/^file:/, '').replace(/\?.*$/, '');
  return path === ':memory:' ? path : resolve(path);
}

export async function openDatabase(connection: string): Promise<Database> {
  if (isPostgresUrl(connection)) {
    // Loaded only for PostgreSQL: pg is ~1 MB of heap that a SQLite deployment never uses.
    const { default: pg } = await import('pg');
    // PostgreSQL returns int8 as text by default; our bigints are millisecond times, well inside 2^53.
    pg.types.setTypeParser(20, (text) => Number(text));
    const pool = new pg.Pool({ connectionString: connection, max: 10 });
    // An idle connection that PostgreSQL ends (restart, failover) is dropped by the pool; without a
    // listener its 'error' event would end the process. The next query opens a new connection.
    pool.on('error', () => {});
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', sqlitePath: null, close: () => db.destroy() };
  }
  const path = sqlitePathOf(connection);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Kysely<Schema>({ dialect: createSqliteDialect(openSqlite(path)) });
  return { db, kind: 'sqlite', sqlitePath: path === ':memory:' ? null : path, close: () => db.destroy() };
}

/** What `latchkey version --db` and a refused start both say about a database an upgrade made. */
export const newerDatabaseSentence = (unknown: readonly string[]): string =>
  `this database is newer than this latchkey (it has ${unknown.join(', ')}); use a newer latchkey or restore a backup made before the upgrade`;

/**
 * Applies every pending migration, returning their names; kysely's lock table keeps two instances
 * from racing. A database that a newer latchkey migrated is refused first, in words: kysely would
 * only report a "corrupted" migration list, and migrations are forward-only.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const known = Object.keys(await migrationProvider.getMigrations());
  const unknown = (await appliedMigrations(db)).filter((name) => !known.includes(name));
  if (unknown.length) throw new AppError('database_newer', 409, `${newerDatabaseSentence(unknown)}.`);
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new AppError('migration_failed', 500, 'The database could not be upgraded.', { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Opens and migrates: what every server command does at start. */
export async function openMigratedDatabase(connection: string): Promise<Database & { migrationsApplied: string[] }> {
  const database = await openDatabase(connection);
  try {
    return { ...database, migrationsApplied: await migrateToLatest(database.db) };
  } catch (error) {
    await database.close();
    throw error;
  }
}
