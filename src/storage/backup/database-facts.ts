// Facts about a database that backup and restore compare: which migrations it has and when its
// data last changed. Plain queries, so they work on SQLite and PostgreSQL alike.
import { sql } from 'kysely';
import type { Db } from '../database.ts';

/** The application_name of latchkey's PostgreSQL connections when the operator sets none. */
export const LATCHKEY_APPLICATION_NAME = 'latchkey';

/** kysely's Migrator records each migration it applies in this table. */
export const MIGRATION_TABLE = 'kysely_migration';

/** Applied migrations, oldest first; [] for a database that was never migrated. */
export async function appliedMigrations(db: Db): Promise<string[]> {
  try {
    const { rows } = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(db);
    return rows.map((row) => row.name);
  } catch {
    return [];
  }
}

// Every column that records when something was written. A sign-in writes web_sessions and the
// audit log; an admin change writes updated_at or the audit log; a passkey use writes last_used_at.
const WRITE_TIMES: ReadonlyArray<[table: string, columns: string[]]> = [
  ['users', ['created_at', 'updated_at']],
  ['groups', ['created_at']],
  ['passkeys', ['created_at', 'last_used_at']],
  ['one_time_links', ['created_at', 'used_at']],
  ['web_sessions', ['created_at', 'last_seen_at']],
  ['audit_log', ['created_at']],
  ['oidc_clients', ['created_at', 'updated_at']],
  ['signing_keys', ['created_at', 'superseded_at']],
  ['api_keys', ['created_at', 'last_used_at']],
];

/**
 * Runs a query that may fail, null when it does. Inside a transaction behind a savepoint: on
 * PostgreSQL one failed statement aborts the whole transaction, and with it the snapshot a backup
 * reads its facts and its dump in (postgres-snapshot.ts).
 */
async function mayFail<T>(db: Db, query: () => Promise<T>): Promise<T | null> {
  if (!db.isTransaction) return query().catch(() => null);
  await sql`savepoint latchkey_fact`.execute(db);
  try {
    const value = await query();
    await sql`release savepoint latchkey_fact`.execute(db);
    return value;
  } catch {
    await sql`rollback to savepoint latchkey_fact`.execute(db);
    return null;
  }
}

/** The newest write time (ms) found in the data, or null when there is none (or no tables yet). */
export async function lastWriteAtMs(db: Db): Promise<number | null> {
  let newest: number | null = null;
  for (const [table, columns] of WRITE_TIMES) {
    for (const column of columns) {
      // null also for a table or column that an older schema does not have yet
      const value = await mayFail(db, async () =>
        (await sql<{ t: number | string | null }>`select max(${sql.ref(column)}) as t from ${sql.table(table)}`.execute(db)).rows[0]?.t);
      if (value !== null && value !== undefined && (newest === null || Number(value) > newest)) newest = Number(value);
    }
  }
  return newest;
}

/** The schema latchkey's tables are in on PostgreSQL (the first of search_path that exists: public, unless set otherwise). */
export async function currentSchema(db: Db): Promise<string> {
  const { rows } = await sql<{ name: string | null }>`select current_schema() as name`.execute(db);
  return rows[0]?.name ?? 'public';
}

/**
 * The tables of a PostgreSQL database's schema (the one latchkey's tables would be in, which a
 * restore replaces) when it is not a latchkey database (no migration table), sorted; [] for a
 * latchkey database or an empty one. A latchkey database may hold tables this version does not
 * know (a newer one added them; a rollback restores over it).
 */
export async function tablesOfAnotherApplication(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() order by table_name`.execute(db);
  const names = rows.map((row) => row.name);
  return names.includes(MIGRATION_TABLE) ? [] : names;
}

/**
 * How many other latchkey connections a PostgreSQL database has: a running latchkey id or serve (on
 * any machine), or a command. A server keeps one connection open while it idles (openDatabase), as
 * a SQLite server keeps its file open; after PostgreSQL restarts it reconnects at its next query
 * (the signing-key check runs every minute). Connections are told apart by application_name, which
 * pg_stat_activity shows every session whatever its privileges; any other connection to the
 * database would also count an operator's psql, a monitoring agent or a pooler's idle link, and
 * block restores for the wrong reason. The name is latchkey's own, or the one this connection has
 * too when DB_CONNECTION_STRING or PGAPPNAME sets another.
 */
export async function latchkeyConnectionsBesidesThis(db: Db): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid()
      and application_name in (${LATCHKEY_APPLICATION_NAME}, current_setting('application_name'))`.execute(db);
  return rows[0]?.n ?? 0;
}
