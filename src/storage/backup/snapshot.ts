// Consistent copies of a live database. SQLite: the online backup API (sqlite3_backup_*) through
// node:sqlite, never a copy of the file, which a concurrent write could tear. PostgreSQL: pg_dump,
// reading the MVCC snapshot the manifest's facts were read in (postgres-snapshot.ts). Both may run
// while `latchkey id` serves and writes.
import { spawn } from 'node:child_process';
import { closeSync, fchmodSync, openSync, rmSync } from 'node:fs';
import { DatabaseSync, backup } from 'node:sqlite';
import { AppError } from '../../core/errors.ts';

// One backup step copies every page. With smaller steps, a write from another connection (the
// running server) makes SQLite restart the copy, which under steady load might never finish; in
// WAL mode a single step reads one snapshot and does not block the server's writers.
const ALL_PAGES = 2 ** 31 - 1;

/**
 * A snapshot, an archive being written or a restore's copy holds every user, email and sealed key:
 * made 0600 before anything is written, whatever the umask, so no other user can read it while it
 * is written, nor afterwards if the command is killed before it is removed. Made new ('wx', O_EXCL),
 * never opened where it is: a file another user placed under that name (in a shared --out folder,
 * say) would keep its own mode and owner, and a symlink would have the data written wherever it
 * points. Returns the open descriptor: writing through it reaches this file even if the name is
 * taken away meanwhile. (SQLite's backup API needs a path: it writes into the file that is there,
 * keeping its mode; so a backup makes its snapshot in a folder only it may open: create-backup.ts.)
 */
export function createPrivateFile(path: string): number {
  rmSync(path, { force: true }); // a partial file of a killed run with the same pid (a link goes, not its target)
  const fd = openSync(path, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600); // the umask may have taken bits off; none may be added
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

const SQLITE_CANTOPEN = 14;

export async function snapshotSqlite(sourcePath: string, destinationPath: string): Promise<void> {
  closeSync(createPrivateFile(destinationPath));
  let source: DatabaseSync | null = null;
  try {
    source = new DatabaseSync(sourcePath);
    source.exec('PRAGMA busy_timeout = 10000');
    await backup(source, destinationPath, { rate: ALL_PAGES });
  } catch (error) {
    // the file itself was read before (foreign-database.ts): its -wal or -shm, or its folder, where SQLite makes them
    if ((error as { errcode?: number }).errcode === SQLITE_CANTOPEN)
      throw new AppError('backup_unreadable', 400, `Cannot read the database ${sourcePath}: SQLite cannot open it (check the permissions of its folder and of its -wal and -shm files).`, { cause: error });
    throw error;
  } finally {
    source?.close();
  }
  const copy = new DatabaseSync(destinationPath);
  try {
    // A single self-contained file: the server switches it back to WAL when it opens it.
    copy.exec('PRAGMA journal_mode = DELETE');
    const check = copy.prepare('PRAGMA quick_check').get() as { quick_check?: string } | undefined;
    if (check?.quick_check !== 'ok') throw new AppError('backup_failed', 500, `The snapshot failed SQLite's integrity check: ${String(check?.quick_check)}`);
  } finally {
    copy.close();
  }
}

export interface ToolResult {
  code: number | null;
  stderr: string;
}

/**
 * Runs a PostgreSQL client tool; a missing tool is a clear error that says how to install it.
 * `stdoutFd`: a descriptor the tool's output goes to (else it is discarded).
 */
export function runPostgresTool(tool: 'pg_dump' | 'psql', args: string[], env: NodeJS.ProcessEnv = process.env, stdoutFd?: number): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', stdoutFd ?? 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (text: string) => { stderr = (stderr + text).slice(-4000); });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        reject(new AppError(`${tool}_missing`, 400, `${tool} was not found on PATH; install the PostgreSQL client tools of your server's major version (Debian: apt-get install postgresql-client)`));
      else reject(error);
    });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Strips the password from a connection string for messages (in its user information, or a password= parameter). */
export const redactConnection = (connection: string): string =>
  connection.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@').replace(/([?&]password=)[^&]*/i, '$1***');

const decoded = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/**
 * How pg_dump and psql get the connection: DB_CONNECTION_STRING without its password on their
 * command line, which every local user can read (ps, /proc/PID/cmdline), and the password in
 * their environment (PGPASSWORD), which only their own user and root can read. The password is
 * found where libpq reads it: in the URI's user information (up to the first @, before any /), or
 * as its password= parameter. Without one, the tools read PGPASSWORD or ~/.pgpass as usual.
 */
export function postgresToolConnection(connection: string, env: NodeJS.ProcessEnv = process.env): { dbname: string; env: NodeJS.ProcessEnv } {
  let password: string | null = null;
  let dbname = connection.replace(/^(postgres(?:ql)?:\/\/)([^@/]*)@/i, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    if (colon === -1) return `${scheme}${userinfo}@`;
    password = decoded(userinfo.slice(colon + 1));
    return `${scheme}${userinfo.slice(0, colon)}@`;
  });
  const mark = dbname.indexOf('?');
  if (mark !== -1) {
    // split by hand: URLSearchParams would re-encode the other parameters (a space as +, which libpq keeps)
    const parameters = dbname.slice(mark + 1).split('&');
    const given = parameters.filter((parameter) => /^password=/i.test(parameter));
    if (given.length) {
      password = decoded(given.at(-1)!.slice('password='.length));
      const rest = parameters.filter((parameter) => !given.includes(parameter));
      dbname = dbname.slice(0, mark) + (rest.length ? `?${rest.join('&')}` : '');
    }
  }
  return { dbname, env: password === null ? env : { ...env, PGPASSWORD: password } };
}

/** A pg_dump pattern that matches exactly this schema's name, whatever characters it holds. */
const exactly = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * pg_dump as plain SQL of latchkey's tables (every table, sequence and view of `schema`, the schema
 * latchkey's tables are in), which psql replays in one transaction. Only the tables: a dump of the
 * whole database also carries statements about the schema itself (COMMENT ON SCHEMA public, once
 * its owner changed), which only the schema's owner may run, and latchkey's role often is not
 * (managed PostgreSQL: a database owned by an administrator, the schema granted to latchkey).
 * `snapshotId`: the snapshot exported by the transaction the manifest's facts were read in
 * (postgres-snapshot.ts), so the dump holds exactly what they describe. pg_dump writes to its
 * standard output, into the descriptor of the file made here: nothing opens the file by its name
 * again, which another user could have replaced meanwhile.
 */
export async function dumpPostgres(connection: string, destinationPath: string, schema: string, snapshotId: string): Promise<void> {
  const fd = createPrivateFile(destinationPath);
  let result: ToolResult;
  try {
    const { dbname, env } = postgresToolConnection(connection);
    result = await runPostgresTool('pg_dump', [
      '--format=plain', '--no-owner', '--no-privileges', '--clean', '--if-exists', `--table=${exactly(schema)}.*`,
      `--snapshot=${snapshotId}`, `--dbname=${dbname}`,
    ], env, fd);
  } finally {
    closeSync(fd);
  }
  if (result.code !== 0) throw new AppError('backup_failed', 400, `pg_dump failed for ${redactConnection(connection)}: ${result.stderr.trim() || `exit ${result.code}`}`);
}

/**
 * Before the dump is replayed: drops every table, sequence and view of the schema latchkey's tables
 * are in (what a backup takes), so tables that a newer version added go too, which rolling back to a
 * pre-upgrade backup needs. Not the schema: dropping and recreating it needs its owner, and
 * latchkey's role may only have been granted it. Runs in the restore's transaction.
 */
const DROP_LATCHKEY_TABLES = `DO $drop$
DECLARE found record;
BEGIN
  FOR found IN SELECT c.relname, c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  LOOP
    EXECUTE format('DROP %s IF EXISTS %I.%I CASCADE',
      CASE found.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
      current_schema(), found.relname);
  END LOOP;
END
$drop$;`;

/**
 * Replaces latchkey's tables with the dump's, in a single transaction: either all of it applies, or
 * nothing changes. The tool's result is returned: a restore and a verify say differently what a
 * failure means.
 */
export function loadPostgresDump(connection: string, dumpPath: string): Promise<ToolResult> {
  const { dbname, env } = postgresToolConnection(connection);
  return runPostgresTool('psql', [
    '--no-psqlrc', '--quiet', '--single-transaction', '--set=ON_ERROR_STOP=1',
    `--command=${DROP_LATCHKEY_TABLES}`, `--file=${dumpPath}`, `--dbname=${dbname}`,
  ], env);
}

export async function replayPostgresDump(connection: string, dumpPath: string): Promise<void> {
  const result = await loadPostgresDump(connection, dumpPath);
  if (result.code !== 0) throw new AppError('restore_failed', 400, `psql could not restore into ${redactConnection(connection)} (nothing was changed): ${result.stderr.trim() || `exit ${result.code}`}`);
}
