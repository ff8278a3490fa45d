// The stores check that a name (or a chosen id) is free before they insert it, to answer with a
// clear 409. Two requests at the same moment (two admins, a retrying script, two instances on one
// PostgreSQL database) can both pass that check; the database's unique index then refuses the
// second insert. These tell that refusal apart from any other database error, so the store can
// answer it with the same 409 as its check instead of a 500.

const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;
const SQLITE_CONSTRAINT_UNIQUE = 2067;
const POSTGRES_UNIQUE_VIOLATION = '23505';

/**
 * Whether `error` is the database refusing a row because another row already has its value of
 * `table`.`column` (a unique index or the primary key). PostgreSQL says which column in `detail`
 * ("Key (username)=(ada) already exists."), SQLite in its message ("UNIQUE constraint failed:
 * users.username"), as node:sqlite and pg report them.
 */
export function isUniqueViolation(error: unknown, table: string, column: string): boolean {
  if (!(error instanceof Error)) return false;
  const fields = error as Error & { errcode?: unknown; code?: unknown; table?: unknown; detail?: unknown };
  if (fields.errcode === SQLITE_CONSTRAINT_UNIQUE || fields.errcode === SQLITE_CONSTRAINT_PRIMARYKEY)
    return error.message.split(': ')[1]?.split(', ').includes(`${table}.${column}`) ?? false;
  return fields.code === POSTGRES_UNIQUE_VIOLATION && fields.table === table
    && typeof fields.detail === 'string' && fields.detail.startsWith(`Key (${column})=`);
}

/** Runs `write`; a unique refusal of one of `conflicts`' columns becomes that column's error (a 409). */
export async function refusingDuplicates<T>(write: () => Promise<T>, table: string, conflicts: Record<string, () => Error>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const column = Object.keys(conflicts).find((name) => isUniqueViolation(error, table, name));
    throw column ? Object.assign(conflicts[column]!(), { cause: error }) : error;
  }
}
