// `latchkey restore`: every check runs before the live database is touched: the archive's checksum,
// the ENCRYPTION_KEY fingerprint, the snapshot itself (it opens, its migrations are known to this
// version, the key opens its signing key: check-snapshot.ts), then the target (not in use, not
// newer than the backup). Only then is the database replaced: SQLite by a rename next to it,
// PostgreSQL in one transaction.
import { existsSync } from 'node:fs';
import { chmod, chown, link, mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { AppError, isAppError } from '../../core/errors.ts';
import { fileErrorReason, type FileError } from '../../core/file-error-reason.ts';
import { compareMigrations, isPostgresUrl, openDatabase, postgresConnectionProblem, refuseForeignSqliteDatabase, sqlitePathOf, type Db } from '../database.ts';
import { migrationProvider } from '../migrations/index.ts';
import { extractArchive, fsyncPath } from './archive.ts';
import { checkPostgresDump, checkSqliteSnapshot } from './check-snapshot.ts';
import { lastWriteAtMs, latchkeyConnectionsBesidesThis, tablesOfAnotherApplication } from './database-facts.ts';
import { encryptionKeyFingerprint, type BackupManifest } from './manifest.ts';
import { type Leftovers, makeScratchFolder, removeLeftoverFolders, type ScratchFolder } from './scratch-folder.ts';
import { redactConnection, replayPostgresDump } from './snapshot.ts';

export interface RestoreInput {
  archivePath: string;
  dbConnectionString: string;
  encryptionKey: Buffer;
  /** Replace a database that has writes newer than the backup. */
  force: boolean;
  /** Only check the archive and load the snapshot (PostgreSQL: into a scratch database); change nothing. */
  verifyOnly: boolean;
  keyOpensSigningKey: (db: Db, encryptionKey: Buffer) => Promise<boolean | null>;
}

export interface RestoreResult {
  manifest: BackupManifest;
  restored: boolean;
  target: string;
  /** SQLite: where the replaced database was kept. */
  previousKeptAt: string | null;
  /** What the operator should still do (e.g. fix the file's owner when restore could not). */
  warnings: string[];
  /** Scratch folders of restores that were stopped, removed from the folder this one worked in. */
  leftovers: Leftovers;
}

/** The private folder a restore works in (scratch-folder.ts). */
const RESTORE_SCRATCH_PREFIX = '.latchkey-restore-';

const refuse = (code: string, message: string) => new AppError(code, 400, message);

export async function restoreBackup(input: RestoreInput): Promise<RestoreResult> {
  const targetKind = isPostgresUrl(input.dbConnectionString) ? 'postgres' : 'sqlite';
  const configuredPath = targetKind === 'sqlite' ? sqlitePathOf(input.dbConnectionString) : null;
  if (configuredPath === ':memory:') throw refuse('restore_no_target', 'DB_CONNECTION_STRING is an in-memory database; set it to the file latchkey id uses.');
  const exists = configuredPath !== null && (input.verifyOnly ? existsSync(configuredPath) : await replaceableSqliteTarget(configuredPath, input.force));
  // The file itself, not a symlink to it: renaming over the link would put the restored data
  // beside it (outside a mounted volume, say) and leave the real file as it was.
  const targetPath = configuredPath !== null && exists ? await realpath(configuredPath) : configuredPath;
  const target = targetPath ?? redactConnection(input.dbConnectionString);
  // The payload is written next to the target, so that putting it in place is a rename (a verify,
  // and a PostgreSQL dump, go to the temporary folder). Always in a folder of its own that only
  // this user may open (mkdtemp, 0700), removed afterwards: at a name another user could guess,
  // in /tmp say, a file or a link they made first would receive the whole database.
  const base = input.verifyOnly || !targetPath ? tmpdir() : dirname(targetPath);
  // The first folder this restore had to make, if any: a refused restore takes it away again.
  const createdDir = base !== tmpdir() ? await makeFolder(base, target) : undefined;
  // A restore that was killed left its folder, with a whole copy of a database, where this one works.
  const leftovers = await removeLeftoverFolders(base, RESTORE_SCRATCH_PREFIX);
  let scratchFolder: ScratchFolder;
  try {
    scratchFolder = await makeScratchFolder(base, RESTORE_SCRATCH_PREFIX);
  } catch (error) {
    if (createdDir) await rm(createdDir, { recursive: true, force: true });
    const reason = (error as FileError).code === 'ENOENT' ? 'files cannot be made there' : fileErrorReason(error as FileError);
    throw base === tmpdir()
      ? refuse('restore_no_scratch', `Cannot make a temporary folder in ${base}: ${reason}; set TMPDIR to a folder this user may write to. Nothing was changed.`)
      : refuse('restore_target_unusable', `Cannot restore into ${target}: a folder cannot be made in ${base}: ${reason}. Nothing was changed.`);
  }
  const scratch = join(scratchFolder.path, targetKind === 'sqlite' ? 'latchkey.db' : 'latchkey.sql');
  let restored = false;
  try {
    const result = await restoreFromScratch(input, scratch, targetKind, targetPath, target);
    restored = result.restored;
    return { ...result, warnings: [...leftovers.kept, ...result.warnings], leftovers };
  } finally {
    await scratchFolder.remove();
    if (createdDir && !restored) await rm(createdDir, { recursive: true, force: true });
  }
}

/** Makes the target's folder and any missing parent; returns the first one it made, as mkdir does. */
async function makeFolder(dir: string, target: string): Promise<string | undefined> {
  try {
    return await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    // EEXIST: mkdir met a file where a folder of the path should be
    const reason = (error as FileError).code === 'EEXIST' ? 'part of that path is a file, not a folder' : fileErrorReason(error as FileError);
    throw refuse('restore_target_unusable', `Cannot restore into ${target}: ${reason}. Nothing was changed.`);
  }
}

/**
 * Whether the database a restore would replace exists, refusing in one sentence, before anything
 * is read or written, a folder, a file this user cannot read, and a file that is not SQLite or is
 * another application's database (foreign-database.ts). With --force those last two are replaced
 * all the same (a database damaged past opening is what a restore is for), and kept beside it as
 * every replaced database is.
 */
async function replaceableSqliteTarget(path: string, force: boolean): Promise<boolean> {
  try {
    await refuseForeignSqliteDatabase(path);
  } catch (error) {
    if (isAppError(error) && (error.cause as FileError | undefined)?.code === 'ENOTDIR')
      throw refuse('restore_target_unusable', `Cannot restore into ${path}: ${fileErrorReason(error.cause as FileError)}. Nothing was changed.`);
    if (!isAppError(error) || (error.code !== 'database_not_sqlite' && error.code !== 'database_not_latchkey')) throw error;
    if (!force) throw new AppError(error.code, error.status, `${error.message} To replace it with this backup all the same (it is kept beside it as ${basename(path)}.before-restore-<time>), add --force.`);
  }
  return existsSync(path);
}

async function restoreFromScratch(input: RestoreInput, scratch: string, targetKind: 'sqlite' | 'postgres', targetPath: string | null, target: string): Promise<Omit<RestoreResult, 'leftovers'>> {
  const { manifest } = await extractArchive(input.archivePath, scratch);
  const fingerprint = encryptionKeyFingerprint(input.encryptionKey);
  if (manifest.encryptionKeyFingerprint !== fingerprint)
    throw refuse('restore_wrong_key', `This backup needs the ENCRYPTION_KEY with fingerprint ${manifest.encryptionKeyFingerprint}, but the configured key's is ${fingerprint}; set the key the backed-up server used. Nothing was changed.`);
  if (manifest.database.kind !== targetKind)
    throw refuse('restore_wrong_kind', `This is a ${manifest.database.kind} backup, and DB_CONNECTION_STRING points at ${targetKind}; restore it into a ${manifest.database.kind} database. Nothing was changed.`);
  const { unknown } = compareMigrations(manifest.database.migrations, Object.keys(await migrationProvider.getMigrations()));
  if (unknown.length)
    throw refuse('restore_newer_schema', `This backup was made by latchkey ${manifest.latchkeyVersion}, whose schema has ${unknown.join(', ')}, which this version does not know; restore it with latchkey ${manifest.latchkeyVersion} or newer. Nothing was changed.`);
  if (manifest.database.kind === 'sqlite') await checkSqliteSnapshot(scratch, manifest, input);
  if (input.verifyOnly) {
    // A dump is only known to be good once it has loaded; --verify changes nothing, so it loads into a scratch database.
    const warnings = manifest.database.kind === 'postgres' ? await checkPostgresDump(scratch, manifest, input, input.dbConnectionString, target) : [];
    return { manifest, restored: false, target, previousKeptAt: null, warnings };
  }

  if (targetPath) {
    const exists = existsSync(targetPath);
    if (exists) {
      assertNotInUse(targetPath);
      await assertReplaceable(targetPath, 'sqlite', manifest, input.force, target);
    }
    const previousKeptAt = exists ? `${targetPath}.before-restore-${new Date().toISOString().replace(/[-:.]/g, '')}` : null;
    const warnings = await takeOwnershipOf(scratch, exists ? targetPath : dirname(targetPath), exists);
    // Kept under a second name before the rename, or not replaced at all. A user who does not own
    // the file may be refused the link (fs.protected_hardlinks).
    if (previousKeptAt) await link(targetPath, previousKeptAt).catch((error: FileError) => {
      throw refuse('restore_cannot_keep', `Cannot restore into ${targetPath}: the database it replaces cannot be kept as ${previousKeptAt}: ${fileErrorReason(error)}; run restore as the user latchkey id runs as. Nothing was changed.`);
    });
    await fsyncPath(scratch);
    await rm(`${targetPath}-wal`, { force: true });
    await rm(`${targetPath}-shm`, { force: true });
    await rename(scratch, targetPath);
    await fsyncPath(dirname(targetPath));
    return { manifest, restored: true, target, previousKeptAt, warnings };
  }
  await assertReplaceable(input.dbConnectionString, 'postgres', manifest, input.force, target);
  await replayPostgresDump(input.dbConnectionString, scratch);
  return { manifest, restored: true, target, previousKeptAt: null, warnings: [] };
}

/**
 * Gives the restored file the owner and group of the file it replaces (or, for a first restore, of
 * its folder), and the replaced file's mode. Restore is often run as root for a service that runs
 * as its own user; a root-owned 0600 database would keep that service from opening it. A folder's
 * mode says nothing about a file's, so a first restore keeps 0600: the file holds sealed keys.
 */
async function takeOwnershipOf(path: string, reference: string, referenceIsFile: boolean): Promise<string[]> {
  const want = await stat(reference);
  if (referenceIsFile) await chmod(path, want.mode & 0o7777);
  const have = await stat(path);
  if (have.uid === want.uid && have.gid === want.gid) return [];
  try {
    await chown(path, want.uid, want.gid);
    return [];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    return [`The restored database belongs to uid ${have.uid}, gid ${have.gid}, not to uid ${want.uid}, gid ${want.gid} like ${reference}, and only root may change that; run restore as root or as that user, or chown the file before starting latchkey id.`];
  }
}

const SQLITE_NOTADB = 26;

/** A running server keeps the file open; replacing it under the server would lose its writes. */
function assertNotInUse(path: string): void {
  const probe = new DatabaseSync(path);
  try {
    probe.exec('PRAGMA busy_timeout = 0');
    // Leaving WAL mode needs the only connection; it also folds the WAL into the file first.
    probe.exec('PRAGMA journal_mode = DELETE');
  } catch (error) {
    if (/locked|busy/i.test((error as Error).message))
      throw refuse('restore_in_use', `${path} is in use (is latchkey id running?); stop it before restoring. Nothing was changed.`);
    // not SQLite at all (replaced with --force: replaceableSqliteTarget), so no server has it open as its database
    if ((error as { errcode?: number }).errcode === SQLITE_NOTADB) return;
    throw error;
  } finally {
    probe.close();
  }
}

/**
 * What a restore needs to know of the database it would replace, read over one connection. With
 * --force only whether a PostgreSQL database is in use: --force replaces newer data, never a
 * database a server is using (nor does it for SQLite: assertNotInUse).
 */
async function readTarget(connection: string, kind: 'sqlite' | 'postgres', force: boolean, target: string): Promise<{ otherLatchkeyConnections: number; newestWriteMs: number | null; otherTables: string[] }> {
  const database = await openDatabase(connection);
  try {
    // the first query on a PostgreSQL connection: a server that is down or refuses us is said so here
    const otherLatchkeyConnections = kind === 'postgres'
      ? await latchkeyConnectionsBesidesThis(database.db).catch((error: unknown) => { throw postgresConnectionProblem(error, target) ?? error; })
      : 0;
    if (force) return { otherLatchkeyConnections, newestWriteMs: null, otherTables: [] };
    return { otherLatchkeyConnections, newestWriteMs: await lastWriteAtMs(database.db), otherTables: kind === 'postgres' ? await tablesOfAnotherApplication(database.db) : [] };
  } finally {
    await database.close();
  }
}

/**
 * Refuses a PostgreSQL target that a latchkey server is using: the restore would replace its tables
 * under it. Refuses, unless --force, a target with writes newer than the backup (they would be
 * lost) and a PostgreSQL target that is not a latchkey database: its restore drops every table of
 * the schema (snapshot.ts) and keeps no copy, so a DB_CONNECTION_STRING naming another
 * application's database would lose its tables without a word.
 */
async function assertReplaceable(connection: string, kind: 'sqlite' | 'postgres', manifest: BackupManifest, force: boolean, target: string): Promise<void> {
  if (force && kind === 'sqlite') return;
  const { otherLatchkeyConnections, newestWriteMs, otherTables } = await readTarget(connection, kind, force, target);
  if (otherLatchkeyConnections)
    throw refuse('restore_in_use', `${target} is in use (is latchkey id running?): ${otherLatchkeyConnections} other latchkey connection${otherLatchkeyConnections === 1 ? '' : 's'}; stop every instance before restoring. Nothing was changed.`);
  if (otherTables.length)
    throw refuse('restore_not_latchkey', `${target} is not a latchkey database: it holds other tables (${otherTables.slice(0, 5).join(', ')}${otherTables.length > 5 ? `, and ${otherTables.length - 5} more` : ''}), which restoring would drop. Check DB_CONNECTION_STRING, or add --force to replace them anyway. Nothing was changed.`);
  if (newestWriteMs !== null && newestWriteMs > Date.parse(manifest.createdAt))
    throw refuse('restore_target_newer', `${target} has changes from ${new Date(newestWriteMs).toISOString()}, after this backup was made (${manifest.createdAt}); restoring would lose them. Add --force to replace it anyway. Nothing was changed.`);
}
