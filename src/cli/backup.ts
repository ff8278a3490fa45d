// `latchkey backup`: a consistent online snapshot of the database, safe while latchkey id runs.
import { existsSync } from 'node:fs';
import { mkdir, open, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { loadIdConfig } from '../config/id-config.ts';
import { AppError } from '../core/errors.ts';
import { fileErrorReason, type FileError } from '../core/file-error-reason.ts';
import { currentSigningKeyOpensWith } from '../oidc/keys.ts';
import { createBackup, pruneBackups } from '../storage/backup/create-backup.ts';
import { parseCommandArgs, print, printHelp, usageError } from './args.ts';
import { latchkeyVersion } from './version.ts';

const HELP = `usage: latchkey backup [--out DIR] [--keep N] [--json]

Writes DIR/latchkey-backup-<time>.tar.gz: a consistent snapshot of the database (SQLite's online
backup, or pg_dump for PostgreSQL) and a manifest with its SHA-256, the schema migrations and the
fingerprint of the ENCRYPTION_KEY it needs. Safe while latchkey id runs. Reads the same
environment as latchkey id (DB_CONNECTION_STRING, ENCRYPTION_KEY …).

  --out DIR   the folder to write to; made if missing, but its parent must exist
              (default: DATA_DIR/backups, made with its parents)
  --keep N    afterwards, keep only the newest N backups in DIR
  --json      print the result as JSON

Keep ENCRYPTION_KEY somewhere other than the backups: the signing keys inside are sealed with it.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { out: { type: 'string' }, keep: { type: 'string' } }, false);
  if (values.help) return printHelp(HELP);
  let keep: number | null = null;
  if (values.keep !== undefined) {
    keep = /^\d+$/.test(values.keep) ? Number(values.keep) : NaN;
    if (!Number.isSafeInteger(keep) || keep < 1) throw usageError(`--keep: expected a whole number of backups, at least 1 (got "${values.keep}")`);
  }
  const config = loadIdConfig({ env: process.env });
  const outDir = resolve(values.out ?? join(config.dataDir, 'backups'));
  const firstMade = await prepareOutDir(outDir, { withParents: values.out === undefined });
  const result = await createBackup({
    dbConnectionString: config.dbConnectionString, encryptionKey: config.encryptionKey, outDir,
    latchkeyVersion: latchkeyVersion(), now: () => new Date(), keyOpensSigningKey: currentSigningKeyOpensWith,
  }).catch(async (error: unknown) => {
    // createBackup removes its own partial files; the folders made for this backup go too (if empty).
    if (firstMade) await removeMadeFolders(outDir, firstMade);
    throw aboutOutDir(error, outDir);
  });
  const pruned = keep === null ? [] : await pruneBackups(outDir, keep, result.path);
  const m = result.manifest;
  print(values.json, { path: result.path, manifest: m, pruned, leftovers: result.leftovers }, () => [
    `Backup written to ${result.path}`,
    `  ${m.database.kind} database, ${m.database.bytes} bytes, sha256 ${m.database.sha256}`,
    `  schema: ${m.database.migrations.at(-1)} (${m.database.migrations.length} migrations)`,
    `  needs ENCRYPTION_KEY with fingerprint ${m.encryptionKeyFingerprint}`,
    ...pruned.map((path) => `  removed old backup ${path}`),
    ...result.leftovers.removed.map((path) => `  removed ${path}, left by a backup that was stopped`),
  ].join('\n'));
  for (const sentence of result.leftovers.kept) console.error(`latchkey backup: ${sentence}`);
  return 0;
}

const unusable = (outDir: string, reason: string) => new AppError('backup_out_unusable', 400, `Cannot write a backup to ${outDir}: ${reason}.`);

/**
 * Checks that the backup folder can be written before any work starts, making it if missing, so an
 * unusable --out is one sentence naming the path and the reason, not a stack trace. An explicit
 * --out gets only its last folder made: a typo in a parent should be reported, not create a tree
 * nobody looks in. Returns the first (outermost) folder it made, or null: the default
 * DATA_DIR/backups can make DATA_DIR too, which a failed backup must not leave behind.
 */
async function prepareOutDir(outDir: string, options: { withParents: boolean }): Promise<string | null> {
  const found = await stat(outDir).catch((error: FileError) => {
    if (error.code === 'ENOENT') return null;
    throw unusable(outDir, fileErrorReason(error));
  });
  if (found) {
    if (!found.isDirectory()) throw unusable(outDir, 'it is a file, and --out names the folder the backup goes in');
    await probeWritable(outDir);
    return null;
  }
  try {
    // with recursive, mkdir answers the outermost folder it made
    return (await mkdir(outDir, { recursive: options.withParents, mode: 0o700 })) ?? outDir;
  } catch (error) {
    const parent = dirname(outDir);
    if ((error as FileError).code === 'ENOENT') throw unusable(outDir, existsSync(parent) ? `a folder cannot be made in ${parent}` : `the folder ${parent} does not exist`);
    throw unusable(outDir, fileErrorReason(error as FileError));
  }
}

/** Removes the empty folders from outDir up to firstMade, the ones this backup made. */
async function removeMadeFolders(outDir: string, firstMade: string): Promise<void> {
  for (let folder = outDir; folder.startsWith(firstMade); folder = dirname(folder)) {
    if (!(await rmdir(folder).then(() => true, () => false)) || folder === firstMade) return;
  }
}

/**
 * Writes and removes a small file: access(W_OK) says yes to root for /proc, /sys or a read-only
 * mount's folders, where the backup would then fail halfway with an SQLite error.
 */
async function probeWritable(outDir: string): Promise<void> {
  const probe = join(outDir, `.latchkey-backup-probe-${process.pid}`);
  try {
    await (await open(probe, 'wx', 0o600)).close();
  } catch (error) {
    throw unusable(outDir, (error as FileError).code === 'ENOENT' ? 'files cannot be created there' : fileErrorReason(error as FileError));
  }
  await unlink(probe);
}

/** A file-system error while writing into the backup folder (a full disk, say), in the same words. */
function aboutOutDir(error: unknown, outDir: string): unknown {
  const { code, path } = error as FileError;
  const inOutDir = typeof path === 'string' && (path === outDir || path.startsWith(outDir + sep));
  return typeof code === 'string' && inOutDir ? unusable(outDir, fileErrorReason(error as FileError)) : error;
}
