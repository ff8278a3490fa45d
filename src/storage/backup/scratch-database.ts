// A PostgreSQL database that exists only while `latchkey restore --verify` checks a backup: the
// dump is replayed into it as a restore replays it into the real one, so a dump that would not
// restore fails here, and the configured database is never touched.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { AppError } from '../../core/errors.ts';
import { openDatabase, postgresConnectionProblem, type Db } from '../database.ts';

const SCRATCH_PREFIX = 'latchkey_verify_';
// A verify loads and checks a dump in minutes; one whose database is older was stopped before it dropped it.
const LEFTOVER_AFTER_SECONDS = 6 * 3600;
const INSUFFICIENT_PRIVILEGE = '42501';

/** The connection string with another database name: only the path changes, every parameter stays. */
export const withDatabaseName = (connection: string, name: string): string =>
  connection.replace(/^(postgres(?:ql)?:\/\/[^/?#]*)(\/[^?#]*)?/i, `$1/${name}`);

/**
 * Creates a database with a random name on the server `connection` names, runs `use` with its
 * connection string, and drops it, however `use` ends (`use` closes its connections first).
 * `target` names the configured database in messages; a database that cannot be dropped is told
 * in `warnings`, with the command that drops it.
 */
export async function withScratchDatabase(connection: string, target: string, warnings: string[], use: (url: string, name: string) => Promise<void>): Promise<void> {
  // when it was made, in the name: PostgreSQL keeps no creation time, and leftovers are judged by age
  const name = `${SCRATCH_PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(6).toString('hex')}`;
  const server = await openDatabase(connection);
  try {
    await dropLeftovers(server.db, warnings);
    try {
      // template0: a database with nothing in it, whatever an administrator added to template1
      await sql`create database ${sql.id(name)} template template0`.execute(server.db);
    } catch (error) {
      if ((error as { code?: string }).code !== INSUFFICIENT_PRIVILEGE) throw postgresConnectionProblem(error, target) ?? error;
      const { rows } = await sql<{ role: string }>`select quote_ident(current_user) as role`.execute(server.db);
      const role = rows[0]?.role ?? 'the role';
      throw new AppError('verify_needs_createdb', 400,
        `--verify loads a PostgreSQL backup into a scratch database (dropped afterwards), and ${role}, the role of ${target}, may not create databases; let it (as an administrator: ALTER ROLE ${role} CREATEDB), or verify with a DB_CONNECTION_STRING of a role that may. Nothing was changed.`, { cause: error });
    }
    try {
      await use(withDatabaseName(connection, name), name);
    } finally {
      await sql`drop database if exists ${sql.id(name)}`.execute(server.db).catch((error: unknown) => {
        warnings.push(`The scratch database ${name} could not be dropped (${(error as Error).message}); drop it with: dropdb ${name}`);
      });
    }
  } finally {
    await server.close();
  }
}

/**
 * Drops the scratch databases a stopped --verify left (killed between create and drop): each holds
 * a whole copy of the accounts and sealed keys. Only this role's own (others' cannot be dropped by
 * it anyway), only those made LEFTOVER_AFTER_SECONDS ago or more by their name, and only those
 * nobody is connected to; one that cannot be dropped is named in `warnings`.
 */
async function dropLeftovers(db: Db, warnings: string[]): Promise<void> {
  const { rows } = await sql<{ name: string }>`
    select datname as name from pg_database d
    where datname like ${`${SCRATCH_PREFIX}%`} and pg_get_userbyid(datdba) = current_user
      and not exists (select 1 from pg_stat_activity a where a.datid = d.oid)`.execute(db);
  const nowSeconds = Date.now() / 1000;
  for (const { name } of rows) {
    const madeAt = Number(/^latchkey_verify_(\d+)_[0-9a-f]+$/.exec(name)?.[1]);
    if (!(nowSeconds - madeAt >= LEFTOVER_AFTER_SECONDS)) continue; // an older latchkey's name, or a verify still starting
    await sql`drop database if exists ${sql.id(name)}`.execute(db).catch((error: unknown) => {
      warnings.push(`The scratch database ${name}, left by a --verify that was stopped, could not be dropped (${(error as Error).message}); drop it with: dropdb ${name}`);
    });
  }
}
