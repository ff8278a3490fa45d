// Consistent copies of a live database. SQLite: the online backup API (sqlite3_backup_*) through
// node:sqlite, never a copy of the file, which a concurrent write could tear. PostgreSQL: pg_dump,
// which reads one MVCC snapshot. Both may run while `latchkey id` serves and writes.
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, openSync, rmSync } from 'node:fs';
import { DatabaseSync, backup } from 'node:sqlite';
import { AppError } from '../../core/errors.ts';

// One backup step copies every page. With smaller steps, a write from another connection (the
// running server) makes SQLite restart the copy, which under steady load might never finish; in
// WAL mode a single step reads one snapshot and does not block the server's writers.
const ALL_PAGES = 2 ** 31 - 1;

/**
 * The snapshot holds every user, email and sealed key in plain SQLite (or SQL): made 0600 before
 * anything is written, whatever the umask, so no other user can read it while it is taken, nor
 * afterwards if the backup is killed before it is packed and removed. Both SQLite's backup API and
 * pg_dump write into the file that is there, keeping its mode.
 */
function createPrivateFile(path: string): void {
  rmSync(path, { force: true }); // a partial file of a killed run with the same pid (a link goes, not its target)
  closeSync(openSync(path, 'wx', 0o600));
  chmodSync(path, 0o600); // the umask may have taken bits off; none may be added
}

export async function snapshotSqlite(sourcePath: string, destinationPath: string): Promise<void> {
  createPrivateFile(destinationPath);
  const source = new DatabaseSync(sourcePath);
  try {
    source.exec('PRAGMA busy_timeout = 10000');
    await backup(source, destinationPath, { rate: ALL_PAGES });
  } finally {
    source.close();
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

/** Runs a PostgreSQL client tool; a missing tool is a clear error that says how to install it. */
export function runPostgresTool(tool: 'pg_dump' | 'psql', args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr = (stderr + text).slice(-4000); });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        reject(new AppError(`${tool}_missing`, 400, `${tool} was not found on PATH; install the PostgreSQL client tools of your server's major version (Debian: apt-get install postgresql-client)`));
      else reject(error);
    });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Strips the password from a connection string for messages. */
export const redactConnection = (connection: string): string => connection.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');

/** pg_dump as plain SQL that drops and recreates our objects, so psql can replay it in one transaction. */
export async function dumpPostgres(connection: string, destinationPath: string): Promise<void> {
  createPrivateFile(destinationPath);
  const result = await runPostgresTool('pg_dump', ['--format=plain', '--no-owner', '--no-privileges', '--clean', '--if-exists', `--file=${destinationPath}`, `--dbname=${connection}`]);
  if (result.code !== 0) throw new AppError('backup_failed', 400, `pg_dump failed for ${redactConnection(connection)}: ${result.stderr.trim() || `exit ${result.code}`}`);
}

/**
 * Replaces the public schema (latchkey's tables) with the dump, in a single transaction: either all
 * of it applies, or nothing changes. Dropping the schema first also removes tables that a newer
 * version added, which is what rolling back to a pre-upgrade backup needs.
 */
export async function replayPostgresDump(connection: string, dumpPath: string): Promise<void> {
  const result = await runPostgresTool('psql', [
    '--no-psqlrc', '--quiet', '--single-transaction', '--set=ON_ERROR_STOP=1',
    '--command=DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;', `--file=${dumpPath}`, `--dbname=${connection}`,
  ]);
  if (result.code !== 0) throw new AppError('restore_failed', 400, `psql could not restore into ${redactConnection(connection)} (nothing was changed): ${result.stderr.trim() || `exit ${result.code}`}`);
}
