// latchkey migrates a database only when it is new, empty, or latchkey's own. Pointed at another
// application's (Pocket ID's SQLite file, a PostgreSQL database with tables of its own), kysely
// added its kysely_migration tables to it before the first migration failed on a table that
// already existed ("The database could not be upgraded", and a stack trace). So the tables are
// looked at first, read-only, and such a database is refused in one sentence with nothing changed.
import { existsSync, closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { PostgresAdapter, sql } from 'kysely';
import { AppError } from '../core/errors.ts';
import { fileErrorReason, type FileError } from '../core/file-error-reason.ts';
import { MIGRATION_TABLE } from './backup/database-facts.ts';
import type { Db } from './database.ts';

/** kysely's bookkeeping, made before the first migration runs (and left behind when it failed). */
const BOOKKEEPING = new Set([MIGRATION_TABLE, `${MIGRATION_TABLE}_lock`]);

export interface DatabaseContents {
  kind: 'sqlite' | 'postgres';
  /** Every table (on PostgreSQL, of the schema latchkey would create its tables in), sorted. */
  tables: string[];
  /** The migrations kysely_migration lists, sorted; [] without one. */
  migrations: string[];
}

/** What an open database holds, as latchkey would migrate it. */
export async function readContents(db: Db): Promise<DatabaseContents> {
  const kind = db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
  const { rows } = kind === 'postgres'
    ? await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() order by table_name`.execute(db)
    : await sql<{ name: string }>`select name from sqlite_master where type = 'table' and substr(name, 1, 7) <> 'sqlite_' order by name`.execute(db);
  const tables = rows.map((row) => row.name);
  const migrations = tables.includes(MIGRATION_TABLE)
    ? (await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(db)).rows.map((row) => row.name)
    : [];
  return { kind, tables, migrations };
}

const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;
const SQLITE_HEADER = Buffer.from('SQLite format 3\0');

/**
 * What a SQLite file holds, read before latchkey opens it for writing (which would switch it to WAL,
 * a change to its header); null when there is no file yet or it is empty. Read-only, and, for a
 * WAL file that nobody has open (no -wal beside it), as immutable: a read-only open would otherwise
 * leave empty -wal and -shm files next to it. A path that cannot be read (a folder, a file or
 * folder of another user) is refused in one sentence naming it and the reason.
 */
export function readSqliteFileContents(path: string): DatabaseContents | null {
  const header = Buffer.alloc(100);
  try {
    // stat, not existsSync: a folder that may not be searched would pass for a missing file
    const found = statSync(path);
    if (found.isDirectory()) throw isFolder(path);
    if (found.size === 0) return null;
    const fd = openSync(path, 'r');
    try {
      readSync(fd, header, 0, header.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    if ((error as FileError).code === 'ENOENT') return null;
    throw unreadable(path, fileErrorReason(error as FileError), error);
  }
  if (!header.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) throw notSqlite(path);
  const walNobodyHasOpen = header[18] === 2 && !existsSync(`${path}-wal`);
  const url = pathToFileURL(path);
  if (walNobodyHasOpen) url.searchParams.set('immutable', '1');
  let handle: DatabaseSync | null = null;
  try {
    handle = new DatabaseSync(url, { readOnly: true });
    // Waits (once, at start) for another process's write, as openSqlite does.
    handle.exec('PRAGMA busy_timeout = 5000');
    const names = (query: string) => (handle!.prepare(query).all() as { name: string }[]).map((row) => row.name);
    const tables = names(`select name from sqlite_master where type = 'table' and substr(name, 1, 7) <> 'sqlite_' order by name`);
    const migrations = tables.includes(MIGRATION_TABLE) ? names(`select name from ${MIGRATION_TABLE} order by name`) : [];
    return { kind: 'sqlite', tables, migrations };
  } catch (error) {
    const errcode = (error as { errcode?: number }).errcode;
    if (errcode === SQLITE_NOTADB) throw notSqlite(path);
    // its -wal or -shm, or its folder (where SQLite makes them), may not be readable
    if (errcode === SQLITE_CANTOPEN) throw unreadable(path, 'SQLite cannot open it (check the permissions of its folder and of its -wal and -shm files)', error);
    throw error;
  } finally {
    handle?.close();
  }
}

const isFolder = (path: string) => new AppError('database_is_folder', 409,
  `${path} is a folder, not a database file, so latchkey changed nothing in it: point DB_CONNECTION_STRING at the database file (such as ${join(path, 'latchkey.db')}).`);

const unreadable = (path: string, reason: string, cause: unknown) => new AppError('database_unreadable', 409,
  `Cannot read the database ${path}: ${reason}. Run the command as the user latchkey id runs as, or check DB_CONNECTION_STRING.`, { cause });

const notSqlite = (path: string) => new AppError('database_not_sqlite', 409,
  `${path} is not a SQLite database, so latchkey changed nothing in it: point DB_CONNECTION_STRING at a new file (latchkey creates it) or at latchkey's own database.`);

const someOf = (names: readonly string[]) => `${names.slice(0, 5).join(', ')}${names.length > 5 ? `, and ${names.length - 5} more` : ''}`;

/**
 * Refuses a database that is another application's: it holds tables but no migration of latchkey's
 * (none of `known`), or its kysely_migration lists only another application's. A new or empty
 * database (kysely's bookkeeping aside) and latchkey's own, of any age, pass.
 */
export function refuseForeignDatabase(contents: DatabaseContents, known: readonly string[], name: string): void {
  if (contents.migrations.some((migration) => known.includes(migration))) return;
  const tables = contents.tables.filter((table) => !BOOKKEEPING.has(table));
  if (!tables.length && !contents.migrations.length) return;
  const found = contents.migrations.length
    ? `another application's migrations in ${MIGRATION_TABLE} (${someOf(contents.migrations)})${tables.length ? ` and tables latchkey did not make (${someOf(tables)})` : ''}`
    : `tables latchkey did not make (${someOf(tables)}) and no record of latchkey's migrations`;
  const instead = contents.kind === 'sqlite' ? 'a new file for latchkey to create' : 'an empty database for latchkey';
  throw new AppError('database_not_latchkey', 409,
    `${name} is not latchkey's database: it holds ${found}, so latchkey changed nothing in it; point DB_CONNECTION_STRING at ${instead} (latchkey does not import Pocket ID's data: see docs/configuration-id.md).`);
}
