// A PostgreSQL database that exists only while `latchkey restore --verify` checks a backup: the
// dump is replayed into it as a restore replays it into the real one, so a dump that would not
// restore fails here, and the configured database is never touched.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { AppError } from '../../core/errors.ts';
import { openDatabase, postgresConnectionProblem } from '../database.ts';

const SCRATCH_PREFIX = 'latchkey_verify_';
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
export async function withScratchDatabase(connection: string, target: string, warnings: string[], use: (url: string) => Promise<void>): Promise<void> {
  const name = `${SCRATCH_PREFIX}${randomBytes(6).toString('hex')}`;
  const server = await openDatabase(connection);
  try {
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
      await use(withDatabaseName(connection, name));
    } finally {
      await sql`drop database if exists ${sql.id(name)}`.execute(server.db).catch((error: unknown) => {
        warnings.push(`The scratch database ${name} could not be dropped (${(error as Error).message}); drop it with: dropdb ${name}`);
      });
    }
  } finally {
    await server.close();
  }
}
