// What `latchkey version` says about schemas: the newest migration latchkey brings, and (--db) a
// database's own, read without migrating it. Apart from src/cli/version.ts so that importing
// latchkeyVersion (the proxy does, for its metrics) does not load the database layer: kysely,
// pg and node:sqlite cost `latchkey proxy` memory it never uses.
import { existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { usageError } from './args.ts';
import { appliedMigrations, MIGRATION_TABLE } from '../storage/backup/database-facts.ts';
import { compareMigrations, isPostgresUrl, openDatabase, sqlitePathOf } from '../storage/database.ts';
export { newerDatabaseSentence } from '../storage/database.ts';
import { migrationProvider } from '../storage/migrations/index.ts';

/** Names of the migrations this latchkey brings, oldest first. */
export const knownMigrations = async (): Promise<string[]> => Object.keys(await migrationProvider.getMigrations()).sort();

/** The schema of a database, read without migrating it. */
export async function databaseSchema(connection: string, known: string[]) {
  if (!isPostgresUrl(connection) && !existsSync(sqlitePathOf(connection))) throw usageError(`--db: there is no database at ${sqlitePathOf(connection)}`);
  const applied = isPostgresUrl(connection) ? await postgresMigrations(connection) : sqliteMigrations(sqlitePathOf(connection));
  return { applied, current: applied.at(-1) ?? null, ...compareMigrations(applied, known) };
}

// Read only: opening the file as latchkey id does would switch it to WAL mode.
function sqliteMigrations(path: string): string[] {
  const sqlite = new DatabaseSync(path, { readOnly: true });
  try {
    return (sqlite.prepare(`select name from ${MIGRATION_TABLE} order by name`).all() as { name: string }[]).map((row) => row.name);
  } catch {
    return [];
  } finally {
    sqlite.close();
  }
}

async function postgresMigrations(connection: string): Promise<string[]> {
  const database = await openDatabase(connection);
  try {
    return await appliedMigrations(database.db);
  } finally {
    await database.close();
  }
}
