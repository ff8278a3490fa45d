// `latchkey restore FILE`: checks a backup completely before replacing the database with it.
import { resolve } from 'node:path';
import { loadIdConfig } from '../config/id-config.ts';
import { ConfigError } from '../config/problems.ts';
import { currentSigningKeyOpensWith } from '../oidc/keys.ts';
import { checkArchive } from '../storage/backup/archive.ts';
import { restoreBackup } from '../storage/backup/restore-backup.ts';
import { onePositional, parseCommandArgs, print, printHelp } from './args.ts';

const HELP = `usage: latchkey restore FILE [--verify] [--force] [--json]

Restores a backup made by latchkey backup into the database latchkey id is configured with
(DB_CONNECTION_STRING, ENCRYPTION_KEY …). Before anything changes it checks the archive's SHA-256,
that the configured ENCRYPTION_KEY is the one the backup needs, and that the snapshot opens.
Stop latchkey id first. A SQLite database that is replaced is kept as <file>.before-restore-<time>.

  --verify   only check the backup and load its snapshot; change nothing. A PostgreSQL
             backup is loaded into a scratch database that is dropped afterwards, so
             the role of DB_CONNECTION_STRING needs CREATEDB
  --force    replace a database that has changes newer than the backup
  --json     print the result as JSON`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { force: { type: 'boolean' }, verify: { type: 'boolean' } }, true);
  if (values.help) return printHelp(HELP);
  const file = onePositional(positionals, 'backup file', 'latchkey restore FILE');
  const archivePath = resolve(file);
  const config = await loadRestoreConfig(archivePath);
  const result = await restoreBackup({
    archivePath, dbConnectionString: config.dbConnectionString, encryptionKey: config.encryptionKey,
    force: values.force ?? false, verifyOnly: values.verify ?? false, keyOpensSigningKey: currentSigningKeyOpensWith,
  });
  const m = result.manifest;
  for (const warning of result.warnings) console.error(`latchkey restore: ${warning}`);
  const removed = result.leftovers.removed.map((path) => `Removed ${path}, left by a restore that was stopped.`);
  print(values.json, result, () => [...removed, ...(result.restored
    ? [`Restored the backup of ${m.createdAt} into ${result.target}.`,
      ...(result.previousKeptAt ? [`The database it replaced is kept at ${result.previousKeptAt}.`] : []),
      'Start latchkey id (or latchkey serve); it applies any newer migrations on start.']
    : [`The backup of ${m.createdAt} is intact (sha256 ${m.database.sha256}), matches the configured ENCRYPTION_KEY and ${m.database.kind === 'sqlite' ? 'opens' : 'loads into PostgreSQL'}; nothing was changed.`])].join('\n'));
  return 0;
}

/**
 * A restore needs the key of the server that made the backup. On localhost without ENCRYPTION_KEY
 * that is its key file, which restore reads but never makes: on a new machine a new key would sit
 * where the old one must go. When the key is the problem, the refusal says which key the backup
 * needs (its manifest's fingerprint), as the refusal of a wrong key does.
 */
async function loadRestoreConfig(archivePath: string) {
  try {
    return loadIdConfig({
      env: process.env,
      missingKeyFix: 'restore needs the key of the server that made the backup, and makes none: set ENCRYPTION_KEY (or ENCRYPTION_KEY_FILE) to it (a server on localhost without ENCRYPTION_KEY kept it in DATA_DIR/encryption.key); a server started here first would make a new key, which cannot open the backup',
    });
  } catch (error) {
    const keyProblem = error instanceof ConfigError ? error.problems.findIndex((p) => p.startsWith('ENCRYPTION_KEY')) : -1;
    if (keyProblem === -1) throw error;
    const fingerprint = await neededKeyFingerprint(archivePath);
    if (!fingerprint) throw error;
    const problems = [...(error as ConfigError).problems];
    problems[keyProblem] += `; this backup needs the ENCRYPTION_KEY with fingerprint ${fingerprint}. Nothing was changed.`;
    throw new ConfigError(problems);
  }
}

/** The manifest's key fingerprint, or null when the archive cannot be read (restore says why once the key is set). */
async function neededKeyFingerprint(archivePath: string): Promise<string | null> {
  return checkArchive(archivePath).then((archive) => archive.manifest.encryptionKeyFingerprint, () => null);
}
