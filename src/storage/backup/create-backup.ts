// `latchkey backup`: snapshot the live database, describe it in a manifest, archive both
// atomically, then prune old archives. The signing keys live in the database, sealed with
// ENCRYPTION_KEY, so the database is all there is to keep (plus that key, kept elsewhere).
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AppError } from '../../core/errors.ts';
import { isPostgresUrl, latchkeyMigrations, openDatabase, refuseForeignSqliteDatabase, sqlitePathOf, type Db } from '../database.ts';
import { sha256OfFile, writeArchive } from './archive.ts';
import { currentSchema, lastWriteAtMs } from './database-facts.ts';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, encryptionKeyFingerprint, type BackupManifest } from './manifest.ts';
import { inOneSnapshot } from './postgres-snapshot.ts';
import { type Leftovers, makeScratchFolder, removeLeftoverFolders } from './scratch-folder.ts';
import { dumpPostgres, redactConnection, snapshotSqlite } from './snapshot.ts';

export interface BackupInput {
  dbConnectionString: string;
  encryptionKey: Buffer;
  outDir: string;
  latchkeyVersion: string;
  now: () => Date;
  /** Whether the key opens the database's current signing key (null: no key yet). */
  keyOpensSigningKey: (db: Db, encryptionKey: Buffer) => Promise<boolean | null>;
}

export interface BackupResult {
  path: string;
  manifest: BackupManifest;
  /** Scratch folders of backups that were stopped, removed from the --out folder (scratch-folder.ts). */
  leftovers: Leftovers;
}

const ARCHIVE_PATTERN = /^latchkey-backup-(\d{8}T\d{6}\d{3}Z)\.tar\.gz$/;
/** latchkey-backup-20250102T030405678Z.tar.gz: sorts by time, and a name says when it was made. */
export const archiveName = (at: Date): string => `latchkey-backup-${at.toISOString().replace(/[-:.]/g, '')}.tar.gz`;
/** The private folder a backup works in, inside --out (so that the archive is renamed into place). */
const BACKUP_SCRATCH_PREFIX = '.latchkey-backup-';

type Facts = { migrations: string[]; lastWriteAtMs: number | null; schema: string | null };

export async function createBackup(input: BackupInput): Promise<BackupResult> {
  await mkdir(input.outDir, { recursive: true, mode: 0o700 });
  const kind = isPostgresUrl(input.dbConnectionString) ? 'postgres' : 'sqlite';
  const createdAt = input.now();
  const path = join(input.outDir, archiveName(createdAt));
  const payloadFile = kind === 'sqlite' ? 'latchkey.db' : 'latchkey.sql';
  const leftovers = await removeLeftoverFolders(input.outDir, BACKUP_SCRATCH_PREFIX);
  // The snapshot and the archive are written in a folder only this user may open, and only the
  // finished archive is renamed into --out: in a shared --out without the sticky bit another user
  // may rename and replace any file of ours there, and SQLite's backup API, sha256OfFile and the
  // archive writer open the snapshot by its name after it was made.
  const scratch = await makeScratchFolder(input.outDir, BACKUP_SCRATCH_PREFIX);
  const payloadPath = join(scratch.path, payloadFile);
  try {
    let facts: Facts;
    if (kind === 'sqlite') {
      const source = sqlitePathOf(input.dbConnectionString);
      const noDatabase = () => new AppError('backup_no_database', 400, `There is no database at ${source} to back up (check DB_CONNECTION_STRING).`);
      if (source === ':memory:') throw noDatabase();
      // In one sentence, before the backup API opens it: a folder, a file this user cannot read (or
      // in a folder it may not search, which existsSync took for a missing file), one that is not
      // SQLite, another application's database.
      await refuseForeignSqliteDatabase(source);
      if (!existsSync(source)) throw noDatabase();
      await snapshotSqlite(source, payloadPath);
      // Facts and the key check come from the snapshot itself, so they describe exactly what is archived.
      const snapshot = await openDatabase(payloadPath);
      try {
        facts = await readFacts(snapshot.db, input, source);
      } finally {
        await snapshot.close();
      }
    } else {
      // Facts, key check and dump all read one snapshot (postgres-snapshot.ts).
      const name = redactConnection(input.dbConnectionString);
      facts = await inOneSnapshot(input.dbConnectionString, name, async (db, snapshotId) => {
        const read = await readFacts(db, input, name);
        await dumpPostgres(input.dbConnectionString, payloadPath, read.schema ?? 'public', snapshotId);
        return read;
      });
    }
    const { sha256, bytes } = await sha256OfFile(payloadPath);
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      formatVersion: BACKUP_FORMAT_VERSION,
      latchkeyVersion: input.latchkeyVersion,
      createdAt: createdAt.toISOString(),
      database: {
        kind, file: payloadFile, bytes, sha256, migrations: facts.migrations,
        lastWriteAt: facts.lastWriteAtMs === null ? null : new Date(facts.lastWriteAtMs).toISOString(),
      },
      encryptionKeyFingerprint: encryptionKeyFingerprint(input.encryptionKey),
    };
    await writeArchive(path, manifest, payloadPath, join(scratch.path, 'archive.tar.gz'));
    return { path, manifest, leftovers };
  } finally {
    await scratch.remove();
  }
}

/** `name`: how a refusal names the database backed up (the snapshot of a SQLite file is a temporary copy). */
async function readFacts(db: Db, input: BackupInput, name: string): Promise<Facts> {
  // another application's database gets the sentence a refused start gives, not "start latchkey id once"
  const { applied: migrations } = await latchkeyMigrations(db, name);
  if (!migrations.length) throw new AppError('backup_no_database', 400, 'The database has no latchkey tables yet; start latchkey id once before backing it up.');
  const opens = await input.keyOpensSigningKey(db, input.encryptionKey);
  if (opens === false)
    throw new AppError('backup_wrong_key', 400, 'The configured ENCRYPTION_KEY does not open the signing key in this database, so a backup would not be restorable; configure the key latchkey id runs with.');
  const postgres = isPostgresUrl(input.dbConnectionString);
  return { migrations, lastWriteAtMs: await lastWriteAtMs(db), schema: postgres ? await currentSchema(db) : null };
}

/**
 * Keeps `justWritten` and the newest `keep - 1` other archives in `dir` (by the time in their
 * names); returns the removed paths. The archive just written always stays: an archive named
 * with a later time (made while the clock ran ahead, or copied from another host) would otherwise
 * outrank it, and every backup would be deleted the moment it was written.
 */
export async function pruneBackups(dir: string, keep: number, justWritten: string): Promise<string[]> {
  const written = basename(justWritten);
  const others = (await readdir(dir)).filter((name) => ARCHIVE_PATTERN.test(name) && name !== written).sort().reverse();
  const removed = others.slice(Math.max(0, keep - 1)).map((name) => join(dir, name));
  for (const path of removed) await rm(path, { force: true });
  return removed;
}

