// The database inside a backup, checked before restore trusts it: it loads (SQLite: opens and passes
// its integrity check; PostgreSQL, for --verify: replays into a scratch database, as a restore
// would replay it into the real one), and then the same facts for both: its migrations are the
// manifest's, and the configured ENCRYPTION_KEY opens its signing key.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { sql } from 'kysely';
import { AppError } from '../../core/errors.ts';
import { openDatabase, type Db } from '../database.ts';
import { appliedMigrations } from './database-facts.ts';
import type { BackupManifest } from './manifest.ts';
import { withScratchDatabase } from './scratch-database.ts';
import { loadPostgresDump } from './snapshot.ts';

export interface SnapshotKey {
  encryptionKey: Buffer;
  keyOpensSigningKey: (db: Db, encryptionKey: Buffer) => Promise<boolean | null>;
}

const damaged = (message: string, cause?: unknown) => new AppError('backup_corrupted', 400, `${message}; nothing was changed. Use another backup.`, { cause });

/** The snapshot opens as SQLite, passes its integrity check, and matches its manifest. */
export async function checkSqliteSnapshot(path: string, manifest: BackupManifest, key: SnapshotKey): Promise<void> {
  try {
    const raw = new DatabaseSync(path, { readOnly: true });
    try {
      const check = raw.prepare('PRAGMA quick_check').get() as { quick_check?: string } | undefined;
      if (check?.quick_check !== 'ok') throw new Error(String(check?.quick_check));
    } finally {
      raw.close();
    }
  } catch (error) {
    throw damaged('The database in this backup does not open as SQLite', error);
  }
  const database = await openDatabase(path);
  try {
    await checkSnapshotFacts(database.db, manifest, key);
  } finally {
    await database.close();
  }
}

/**
 * The dump replays, in one transaction with ON_ERROR_STOP as a restore replays it, into a new
 * database on the server `connection` names (dropped afterwards), and what it loaded matches its
 * manifest. `target`: the configured database without its password, for messages. Returns what the
 * operator should still do (a scratch database that could not be dropped).
 */
export async function checkPostgresDump(dumpPath: string, manifest: BackupManifest, key: SnapshotKey, connection: string, target: string): Promise<string[]> {
  const warnings: string[] = [];
  const schema = await schemaOfDump(dumpPath);
  await withScratchDatabase(connection, target, warnings, async (scratchUrl, scratchName) => {
    if (schema) {
      const setUp = await openDatabase(scratchUrl);
      try {
        // The dump names its schema in every statement, and a new database has only public; the
        // checks' unqualified names must find its tables there, as search_path finds them in the
        // real database (set for the database, so every later connection has it).
        await sql`create schema if not exists ${sql.id(schema)}`.execute(setUp.db);
        await sql`alter database ${sql.id(scratchName)} set search_path to ${sql.id(schema)}`.execute(setUp.db);
      } finally {
        await setUp.close();
      }
    }
    const loaded = await loadPostgresDump(scratchUrl, dumpPath);
    if (loaded.code !== 0) throw damaged(`The database in this backup does not load into PostgreSQL (psql: ${psqlError(loaded.stderr, dumpPath) || `exit ${loaded.code}`})`);
    const database = await openDatabase(scratchUrl);
    try {
      await checkSnapshotFacts(database.db, manifest, key);
    } finally {
      await database.close();
    }
  });
  return warnings;
}

/** psql's complaint on one line, the scratch file it read named as the dump. */
const psqlError = (stderr: string, dumpPath: string): string =>
  stderr.split(`psql:${dumpPath}:`).join('').replace(/^(\d+): /gm, 'line $1 of the dump: ').replace(/\s+/g, ' ').trim();

async function checkSnapshotFacts(db: Db, manifest: BackupManifest, key: SnapshotKey): Promise<void> {
  const migrations = await appliedMigrations(db);
  if (migrations.join(',') !== manifest.database.migrations.join(','))
    throw damaged('The database in this backup does not match its manifest');
  if ((await key.keyOpensSigningKey(db, key.encryptionKey)) === false)
    throw new AppError('restore_wrong_key', 400, 'The configured ENCRYPTION_KEY does not open the signing key in this backup; nothing was changed.');
}

/**
 * The schema a pg_dump put its tables in, from the comment it writes before each object
 * ("-- Name: users; Type: TABLE; Schema: public; Owner: -"), which comes before any data; null
 * when it names none (a dump without tables).
 */
async function schemaOfDump(dumpPath: string): Promise<string | null> {
  const lines = createInterface({ input: createReadStream(dumpPath), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      const found = /^-- Name: [^;]*; Type: [^;]*; Schema: (.+); Owner: /.exec(line);
      if (found && found[1] !== '-') return found[1]; // '-': an object outside any schema
      if (line.startsWith('COPY ')) return null;
    }
    return null;
  } finally {
    lines.close();
  }
}
