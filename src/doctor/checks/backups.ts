import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadIdConfig } from '../../config/id-config.ts';
import { isAppError } from '../../core/errors.ts';
import { currentSigningKeyOpensWith } from '../../oidc/keys.ts';
import { checkArchive } from '../../storage/backup/archive.ts';
import type { BackupManifest } from '../../storage/backup/manifest.ts';
import { restoreBackup } from '../../storage/backup/restore-backup.ts';
import { type Check, fail, ok, skip, warn } from '../check.ts';
import type { DoctorContext } from '../context.ts';

const MAX_AGE_DAYS = 7;
const DAY_MS = 86_400_000;

/**
 * ENCRYPTION_KEY as latchkey id reads it (the value, the file *_FILE names, or on localhost the
 * key file id and serve keep in DATA_DIR), when readable here; loadIdConfig never makes one here.
 */
function encryptionKeyOf(ctx: DoctorContext): Buffer | null {
  const env = ctx.id?.env;
  if (!env) return null;
  try {
    return loadIdConfig({ env }).encryptionKey;
  } catch {
    return null; // the id's other settings are other checks' to judge
  }
}

/**
 * What `latchkey restore --verify` checks (checksum, key fingerprint, the snapshot opens and its
 * signing key opens with the key) when the id's key and database are known here; otherwise the
 * archive's own integrity (manifest first, SHA-256 of the database inside).
 */
async function verify(ctx: DoctorContext, file: string): Promise<{ manifest: BackupManifest; how: string; warnings?: string[] }> {
  const key = encryptionKeyOf(ctx);
  const connection = ctx.inputs.dbConnectionString;
  if (key && connection) {
    try {
      const result = await restoreBackup({ archivePath: file, dbConnectionString: connection, encryptionKey: key, force: false, verifyOnly: true, keyOpensSigningKey: currentSigningKeyOpensWith });
      return { manifest: result.manifest, how: 'verified as latchkey restore --verify does (checksum, ENCRYPTION_KEY, the snapshot loads and matches its manifest)', warnings: result.warnings };
    } catch (error) {
      // A PostgreSQL backup is loaded into a scratch database, which a managed server's role often
      // may not create: that says nothing about the backup, so the archive is still checked.
      if (!isAppError(error) || error.code !== 'verify_needs_createdb') throw error;
      const { manifest } = await checkArchive(file);
      return { manifest, how: `the archive is intact (its SHA-256 matches its manifest), but whether it restores was not checked: ${error.message}` };
    }
  }
  const { manifest } = await checkArchive(file);
  return { manifest, how: 'the archive is intact (its SHA-256 matches its manifest); give the id\'s ENCRYPTION_KEY and DB_CONNECTION_STRING to also check that it restores' };
}

export const backups: Check = {
  id: 'backups',
  title: 'A recent backup exists and restores',
  async run(ctx) {
    const dir = ctx.inputs.backupDir;
    if (!dir) return skip('no backup folder given (--backup-dir DIR)');
    const setUp = `latchkey backup --out ${dir} --keep 14, daily from cron or a systemd timer, with the id's environment`;
    if (!existsSync(dir)) return fail(`${dir} does not exist: no backups`, setUp);
    const archives = readdirSync(dir).filter((n) => /\.(tar\.gz|tgz)$/.test(n)).map((n) => ({ file: join(dir, n), mtimeMs: statSync(join(dir, n)).mtimeMs }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    if (!archives.length) return fail(`no backup archives in ${dir}`, setUp);
    const latest = archives[0].file;
    let verified: Awaited<ReturnType<typeof verify>>;
    try {
      verified = await verify(ctx, latest);
    } catch (error) {
      const message = isAppError(error) ? error.message : (error as Error).message;
      if (/manifest/.test(message))
        return fail(`the latest backup ${latest} is not a latchkey backup (${message}); a tar of the data folder taken while the server writes can be inconsistent, and nothing checks it`, setUp);
      return fail(`the latest backup ${latest} does not restore: ${message}`, `make a new one now (${setUp}) and find out what damaged this one`);
    }
    const ageDays = (ctx.nowMs() - Date.parse(verified.manifest.createdAt)) / DAY_MS;
    const seen = `latest ${latest}, ${ageDays.toFixed(1)} days old; ${verified.how}`;
    if (ageDays > MAX_AGE_DAYS) return warn(`${seen}: older than ${MAX_AGE_DAYS} days`, `check that the scheduled backup runs: ${setUp}`);
    // what verifying left to do (a scratch database or folder it could not remove: a copy of every account)
    if (verified.warnings?.length) return warn(`${seen}; but ${verified.warnings.join(' ')}`, verified.warnings.join(' '));
    return ok(seen);
  },
};
