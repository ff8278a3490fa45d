import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, sql, type MigrationProvider, type Transaction } from 'kysely';
import { AppError } from '../core/errors.ts';
import { LATCHKEY_APPLICATION_NAME } from './backup/database-facts.ts';
import { redactConnection } from './backup/snapshot.ts';
import { readContents, readSqliteFileContents, refuseForeignDatabase } from './foreign-database.ts';
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

/**
 * Bounds on one PostgreSQL query: the server cancels a slow statement after statementMs (the
 * connection stays usable); queryMs is for a server that no longer answers at all. null = none.
 */
export interface QueryTimeouts {
  statementMs: number;
  queryMs: number;
}

/** Longer than any query latchkey serves a request with; migrations run without (openMigratedDatabase). */
export const DEFAULT_QUERY_TIMEOUTS: Readonly<QueryTimeouts> = Object.freeze({ statementMs: 14_000, queryMs: 15_000 });

export interface OpenOptions {
  /** PostgreSQL only; tests lower them. */
  timeouts?: QueryTimeouts | null;
}

/**
 * pg's query_timeout fails the query but leaves it in flight on its connection, so every later
 * query there would wait behind a reply that may never come, each for the whole timeout. So the
 * connection is ended, synchronously marked as ending before the caller (kysely) hears of the
 * error and releases it: this handler was attached first, so it runs first, and the pool then
 * drops the connection instead of handing it to the next query. (A slow query, as opposed to a
 * silent network, is cancelled by the server first: statement_timeout.)
 */
function endConnectionOnQueryTimeout(client: import('pg').PoolClient): void {
  const query = client.query;
  client.query = function (this: typeof client, ...args: unknown[]) {
    const result = (query as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise)
      result.catch((error: unknown) => {
        if (error instanceof Error && error.message === 'Query read timeout') client.end().catch(() => {});
      });
    return result;
  } as typeof client.query;
}

export async function openDatabase(connection: string, options: OpenOptions = {}): Promise<Database> {
  if (isPostgresUrl(connection)) {
    const timeouts = options.timeouts === undefined ? DEFAULT_QUERY_TIMEOUTS : options.timeouts;
    // Loaded only for PostgreSQL: pg is ~1 MB of heap that a SQLite deployment never uses.
    const { default: pg } = await import('pg');
    // PostgreSQL returns int8 as text by default; our bigints are millisecond times, well inside 2^53.
    pg.types.setTypeParser(20, (text) => Number(text));
    const pool = new pg.Pool({
      connectionString: connection,
      max: 10,
      // How `latchkey restore` sees a running server (latchkeyConnectionsBesidesThis): its
      // connections carry this name (unless DB_CONNECTION_STRING or PGAPPNAME names one), and one
      // of them stays open while the server idles; the pool would otherwise close it after 10 s.
      fallback_application_name: LATCHKEY_APPLICATION_NAME,
      min: 1,
      // A PostgreSQL that stops answering (a network partition, a failover in progress) must cost a
      // request a bounded wait and an error page, not hold it, and the pool's ten connections with
      // it, until the operating system gives up on the connection minutes later.
      connectionTimeoutMillis: 5_000,
      ...(timeouts && { statement_timeout: timeouts.statementMs, query_timeout: timeouts.queryMs }),
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // A connection that PostgreSQL ends (restart, failover, pg_terminate_backend) emits 'error';
    // without a listener that event ends the process. The pool listens on idle connections only,
    // so every connection gets one when it is made: the query in flight fails with the error (one
    // 5xx), the pool drops the connection, and the next query opens a new one.
    pool.on('error', () => {});
    pool.on('connect', (client) => {
      client.on('error', () => {});
      endConnectionOnQueryTimeout(client);
    });
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', sqlitePath: null, close: () => db.destroy() };
  }
  const path = sqlitePathOf(connection);
  if (path !== ':memory:') createPrivately(path);
  const db = new Kysely<Schema>({ dialect: createSqliteDialect(openSqlite(path)) });
  return { db, kind: 'sqlite', sqlitePath: path === ':memory:' ? null : path, close: () => db.destroy() };
}

/**
 * The keys of the PostgreSQL advisory locks that lockWrites takes, one per kind of write that must
 * not interleave with another of its kind. Fixed forever: every instance on one database, of any
 * version, must wait on the same key. Not kysely's migration lock, 3853314791062309107.
 */
const WRITE_LOCK_KEYS = {
  /** A username or email written (users.ts, assertUnique): no two users may share one in any case. */
  userNames: 7_316_340_125,
} as const;

/**
 * Holds `lock` from now until `trx` ends, waiting while another transaction holds it: for a check
 * and the write it allows, which no unique index can make one step. PostgreSQL: an advisory
 * transaction lock (after it, each statement of a READ COMMITTED transaction sees what the last
 * holder committed). SQLite needs none: every transaction begins with BEGIN IMMEDIATE
 * (sqlite-dialect.ts), which holds the file's write lock against other processes and kysely's one
 * connection against every other query of this process until it ends.
 */
export async function lockWrites(trx: Transaction<Schema>, lock: keyof typeof WRITE_LOCK_KEYS): Promise<void> {
  if (trx.getExecutor().adapter instanceof PostgresAdapter) await sql`select pg_advisory_xact_lock(${sql.lit(WRITE_LOCK_KEYS[lock])})`.execute(trx);
}

/**
 * A new database, and a folder made for it, are the server's alone whatever the umask: the file
 * holds every account, email address and audit entry, and a local user who could write to it could
 * make themselves an admin (tokens and cookies are kept only as their SHA-256, oidc/adapter.ts).
 * SQLite gives its -wal and -shm files the mode
 * of the database file. An existing file or folder keeps the mode its owner chose.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

// PostgreSQL's SQLSTATE codes (Appendix A) and node's error codes of a connection that failed.
const CONNECTION_PROBLEMS: ReadonlyArray<[test: (code: string, message: string) => boolean, reason: (message: string) => string]> = [
  [(code) => code === 'ECONNREFUSED', () => 'nothing accepts connections at that address (is PostgreSQL running there?)'],
  [(code) => code === 'ENOENT', () => 'no server listens on that socket (is PostgreSQL running there?)'],
  [(code) => code === 'ENOTFOUND' || code === 'EAI_AGAIN', () => 'its host name does not resolve'],
  [(code) => code === 'EHOSTUNREACH' || code === 'ENETUNREACH', () => 'its host cannot be reached from here'],
  [(code, message) => code === 'ETIMEDOUT' || code === 'ECONNRESET' || /timeout|Connection terminated/i.test(message), () => 'it did not answer in time, or cut the connection'],
  [(code) => code === '3D000', (message) => `${/database "(.*)" does not exist/.exec(message)?.[0] ?? 'its database does not exist'} there; create it (createdb), or check DB_CONNECTION_STRING`],
  [(code) => code === '28P01', () => 'it refused the password'],
  [(code) => code === '28000', () => 'it refused this user (no such role, or pg_hba.conf does not let it in)'],
  [(_code, message) => /client password must be a string/.test(message), () => 'it asks for a password, and DB_CONNECTION_STRING gives none'],
  [(code) => code === '53300', () => 'it has no connection slots left'],
  [(code) => code === '57P03', () => 'it is starting up or shutting down'],
];

/**
 * A PostgreSQL server that cannot be reached, or that refuses the connection, in one sentence
 * naming the database (`name`, without its password) and the reason; null for any other error.
 */
export function postgresConnectionProblem(error: unknown, name: string): AppError | null {
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  const found = CONNECTION_PROBLEMS.find(([test]) => test(code, message));
  return found ? new AppError('database_unreachable', 503, `Cannot connect to PostgreSQL at ${name}: ${found[1](message)}.`) : null;
}

/** What `latchkey version --db` and a refused start both say about a database an upgrade made. */
export const newerDatabaseSentence = (unknown: readonly string[]): string =>
  `this database is newer than this latchkey (it has ${unknown.join(', ')}); use a newer latchkey or restore a backup made before the upgrade`;

/** A database's migrations against the ones this latchkey knows: what it lacks, and what only a newer latchkey knows. */
export function compareMigrations(applied: readonly string[], known: readonly string[]) {
  return { pending: known.filter((name) => !applied.includes(name)), unknown: applied.filter((name) => !known.includes(name)) };
}

const refuseNewerDatabase = ({ unknown }: { unknown: string[] }): void => {
  if (unknown.length) throw new AppError('database_newer', 409, `${newerDatabaseSentence(unknown)}.`);
};

/** How a refusal names the database: the SQLite file, or the URL without its password. */
const nameOf = (connection: string): string => (isPostgresUrl(connection) ? redactConnection(connection) : sqlitePathOf(connection));

/**
 * A SQLite file that is another application's is refused before it is opened for writing: opening
 * switches it to WAL, which rewrites its header (foreign-database.ts reads it read-only).
 */
async function refuseForeignSqliteFile(connection: string, provider: MigrationProvider): Promise<void> {
  if (isPostgresUrl(connection) || sqlitePathOf(connection) === ':memory:') return;
  const contents = readSqliteFileContents(sqlitePathOf(connection));
  if (contents) refuseForeignDatabase(contents, Object.keys(await provider.getMigrations()), sqlitePathOf(connection));
}

/**
 * For commands that only read a database (doctor): another application's SQLite file is refused
 * before openDatabase, which would switch it to WAL. Throws the same sentence as a refused start.
 */
export const refuseForeignSqliteDatabase = (connection: string): Promise<void> => refuseForeignSqliteFile(connection, migrationProvider);

/**
 * The migrations a database lists and the ones this latchkey knows, after refusing another
 * application's database in one sentence naming it as `name` (foreign-database.ts).
 */
export async function latchkeyMigrations(db: Db, name: string, provider: MigrationProvider = migrationProvider): Promise<{ applied: string[]; known: string[] }> {
  const known = Object.keys(await provider.getMigrations());
  // the first query on a PostgreSQL connection: a server that is down or refuses us is said so here
  const contents = await readContents(db).catch((error: unknown) => { throw postgresConnectionProblem(error, name) ?? error; });
  refuseForeignDatabase(contents, known, name);
  return { applied: contents.migrations, known };
}

/**
 * Applies every pending migration, returning their names; kysely's lock keeps two instances from
 * racing. Refused first, in words, with nothing written: another application's database
 * (foreign-database.ts), and one that a newer latchkey migrated (kysely would only report a
 * "corrupted" migration list, and migrations are forward-only). Runs on `db` as opened, timeouts
 * included: openMigratedDatabase gives it a pool without them. `name` is what a refusal calls it.
 */
export async function migrateToLatest(db: Db, provider: MigrationProvider = migrationProvider, name = 'This database'): Promise<string[]> {
  const { applied, known } = await latchkeyMigrations(db, name, provider);
  refuseNewerDatabase(compareMigrations(applied, known));
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new AppError('migration_failed', 500, 'The database could not be upgraded.', { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Opens and migrates: what every server command does at start. On PostgreSQL the migrations get a
 * pool of their own without the query timeouts: an index build or a table rewrite on a large
 * database can take minutes, and an instance starting meanwhile waits as long for the migration
 * lock; killed at the timeout, either would fail the upgrade. (SQLite has no such timeouts, and a
 * ':memory:' database exists only in its one handle.) `migrations` is for tests.
 */
export async function openMigratedDatabase(
  connection: string,
  options: OpenOptions & { migrations?: MigrationProvider } = {},
): Promise<Database & { migrationsApplied: string[] }> {
  await refuseForeignSqliteFile(connection, options.migrations ?? migrationProvider);
  const database = await openDatabase(connection, options);
  let migrating = database;
  try {
    if (database.kind === 'postgres') migrating = await openDatabase(connection, { timeouts: null });
    return { ...database, migrationsApplied: await migrateToLatest(migrating.db, options.migrations, nameOf(connection)) };
  } catch (error) {
    await database.close();
    throw error;
  } finally {
    if (migrating !== database) await migrating.close();
  }
}

/**
 * What the admin commands open (`latchkey user`, `client`, …): a new database is set up as the
 * first start would, but one that a server already uses is never upgraded by a command. After an
 * upgrade of the package, the server may still be running the older version until it restarts;
 * migrating its database under it from a shell would change the tables it writes to. So a database
 * that lacks this version's migrations is refused, in words, until the server has restarted.
 */
export async function openDatabaseForCommand(connection: string): Promise<Database> {
  await refuseForeignSqliteFile(connection, migrationProvider);
  const database = await openDatabase(connection);
  try {
    const { applied, known } = await latchkeyMigrations(database.db, nameOf(connection));
    if (applied.length > 0) {
      const state = compareMigrations(applied, known);
      refuseNewerDatabase(state);
      if (state.pending.length) {
        throw new AppError('database_needs_upgrade', 409,
          `this database has not been upgraded to this latchkey yet (it lacks ${state.pending.join(', ')}); restart latchkey id (or serve) with this version first, which upgrades it at start. Commands never upgrade a database a server uses: a server still running the older version would find its tables changed under it.`);
      }
      return database;
    }
  } catch (error) {
    await database.close();
    throw error;
  }
  // A new database: set up as the first start would (with its own migration pool on PostgreSQL).
  await database.close();
  return openMigratedDatabase(connection);
}
