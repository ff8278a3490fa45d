import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';

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

export function openSqlite(path: string): DatabaseSync {
  const database = new DatabaseSync(path);
  // WAL lets `latchkey backup` read a consistent snapshot while the server writes.
  database.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;');
  return database;
}

export function createSqliteDialect(database: DatabaseSync): SqliteDialect {
  const adapted: SqliteDatabase = {
    close: () => database.close(),
    prepare: (sql: string) => adaptStatement(database.prepare(sql)),
  };
  return new SqliteDialect({ database: adapted });
}
