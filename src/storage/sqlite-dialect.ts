import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import {
  CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver,
  type DatabaseConnection, type DialectAdapter, type Driver, type QueryResult, type SqliteDatabase, type SqliteStatement,
} from 'kysely';
import { AppError } from '../core/errors.ts';

// kysely's SqliteDialect expects better-sqlite3's shape; node:sqlite is close enough that a thin
// adapter suffices, which keeps the project free of native addons.
type Bindable = null | number | bigint | string | Uint8Array;

const toBindable = (value: unknown): Bindable => {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  return value as Bindable;
};

function adaptStatement(statement: StatementSync): SqliteStatement {
  // A statement that returns columns is a reader (SELECT, or anything with RETURNING).
  const reader = statement.columns().length > 0;
  return {
    reader,
    all: (parameters) => statement.all(...parameters.map(toBindable)),
    run: (parameters) => {
      const result = statement.run(...parameters.map(toBindable));
      return { changes: result.changes, lastInsertRowid: result.lastInsertRowid };
    },
    iterate: (parameters) => statement.iterate(...parameters.map(toBindable)),
  };
}

/**
 * How long a statement waits for another process's write (the server's, or a CLI command's beside
 * it) before failing with `database_busy`. Waiting happens here, asynchronously, not in SQLite's
 * busy handler: node:sqlite is synchronous, so that one would stop the server's event loop (every
 * request) for as long as it waits.
 */
export const SQLITE_BUSY_WAIT_MS = 5_000;
// SQLite's own busy handler backs off the same way.
const BACKOFF_MS = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];
const SQLITE_BUSY = 5;

const isBusy = (error: unknown): boolean =>
  typeof (error as { errcode?: unknown } | null)?.errcode === 'number' && ((error as { errcode: number }).errcode & 0xff) === SQLITE_BUSY;

export const databaseBusy = (cause: unknown) =>
  new AppError('database_busy', 503,
    `The database is busy: another process kept it locked for more than ${SQLITE_BUSY_WAIT_MS / 1000} seconds. Please try again in a moment.`,
    { cause });

/** Runs `attempt` again while another connection holds the write lock, up to SQLITE_BUSY_WAIT_MS. */
async function retryWhileBusy<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + SQLITE_BUSY_WAIT_MS;
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isBusy(error)) throw error;
      const left = deadline - performance.now();
      if (left <= 0) throw databaseBusy(error);
      await sleep(Math.min(BACKOFF_MS[Math.min(tries, BACKOFF_MS.length - 1)]!, left));
    }
  }
}

/**
 * Transactions begin with BEGIN IMMEDIATE, taking the write lock first. A deferred BEGIN would
 * take it at the first write, and a transaction that read before another process wrote cannot
 * (SQLITE_BUSY at once: waiting cannot refresh its snapshot); most of latchkey's transactions read
 * then write. A statement that meets another process's lock is retried (retryWhileBusy): it had no
 * effect, and inside a transaction SQLite rolls back only that statement.
 */
class NodeSqliteDriver extends SqliteDriver {
  #connection: DatabaseConnection | undefined;

  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection();
    this.#connection ??= {
      executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> => retryWhileBusy(() => connection.executeQuery<R>(query)),
      streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
    };
    return this.#connection;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** SQLite does roll DDL back: each migration (and the check of which ones ran) in one write transaction,
 * so two processes starting on a new or older file cannot both apply the same migration. */
class TransactionalDdlAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class NodeSqliteDialect extends SqliteDialect {
  readonly #database: SqliteDatabase;

  constructor(database: SqliteDatabase) {
    super({ database });
    this.#database = database;
  }

  override createDriver(): Driver {
    return new NodeSqliteDriver({ database: this.#database });
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlAdapter();
  }
}

export function openSqlite(path: string): DatabaseSync {
  const database = new DatabaseSync(path);
  // WAL lets `latchkey backup` read a consistent snapshot while the server writes. Opening waits
  // in SQLite's busy handler (once, at start); after that, waits are asynchronous (retryWhileBusy).
  database.exec(`PRAGMA busy_timeout = ${SQLITE_BUSY_WAIT_MS}; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;`);
  database.exec('PRAGMA busy_timeout = 0');
  return database;
}

export function createSqliteDialect(database: DatabaseSync): SqliteDialect {
  const adapted: SqliteDatabase = {
    close: () => database.close(),
    prepare: (sql: string) => adaptStatement(database.prepare(sql)),
  };
  return new NodeSqliteDialect(adapted);
}
