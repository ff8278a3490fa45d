import { existsSync, readFileSync } from 'node:fs';
import { badRequest } from '../core/errors.ts';
import { DatabaseSync } from 'node:sqlite';
import { appliedMigrations, MIGRATION_TABLE } from '../storage/backup/database-facts.ts';
import { isPostgresUrl, openDatabase, sqlitePathOf } from '../storage/database.ts';
import { migrationProvider } from '../storage/migrations/index.ts';
import { parseCommandArgs, print } from './args.ts';

export const latchkeyVersion = (): string =>
  (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `usage: latchkey version [--db FILE|postgres://…] [--json]

Prints latchkey's version and the newest schema migration it brings. With --db, also the schema of
that database (read only, nothing is migrated) and the migrations latchkey id would apply on start.`;

/** The schema of a database, read without migrating it. */
async function databaseSchema(connection: string, known: string[]) {
  if (!isPostgresUrl(connection) && !existsSync(sqlitePathOf(connection))) throw badRequest('invalid_arguments', `--db: there is no database at ${sqlitePathOf(connection)}`);
  const applied = isPostgresUrl(connection) ? await postgresMigrations(connection) : sqliteMigrations(sqlitePathOf(connection));
  return { applied, current: applied.at(-1) ?? null, pending: known.filter((name) => !applied.includes(name)), unknown: applied.filter((name) => !known.includes(name)) };
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

export async function run(argv: string[] = []): Promise<number> {
  const { values } = parseCommandArgs(argv, { db: { type: 'string' } }, false);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const known = Object.keys(await migrationProvider.getMigrations()).sort();
  const result = {
    version: latchkeyVersion(), node: process.version, schema: known.at(-1) ?? null,
    database: values.db ? await databaseSchema(values.db, known) : undefined,
  };
  print(values.json, result, () => {
    const lines = [`latchkey ${result.version} (node ${result.node}), schema ${result.schema}`];
    const d = result.database;
    if (d) {
      lines.push(`database schema: ${d.current ?? 'empty (never migrated)'} (${d.applied.length} migrations applied)`);
      if (d.pending.length) lines.push(`latchkey id applies on start: ${d.pending.join(', ')} (take a backup first: migrations are forward-only)`);
      if (d.unknown.length) lines.push(`this database is newer than this latchkey (it has ${d.unknown.join(', ')}); use a newer latchkey or restore a backup made before the upgrade`);
    }
    return lines.join('\n');
  });
  return 0;
}
