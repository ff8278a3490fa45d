// `latchkey restore FILE`: checks a backup completely before replacing the database with it.
import { resolve } from 'node:path';
import { loadIdConfig } from '../config/id-config.ts';
import { currentSigningKeyOpensWith } from '../oidc/keys.ts';
import { restoreBackup } from '../storage/backup/restore-backup.ts';
import { onePositional, parseCommandArgs, print, printHelp } from './args.ts';

const HELP = `usage: latchkey restore FILE [--verify] [--force] [--json]

Restores a backup made by latchkey backup into the database latchkey id is configured with
(DB_CONNECTION_STRING, ENCRYPTION_KEY …). Before anything changes it checks the archive's SHA-256,
that the configured ENCRYPTION_KEY is the one the backup needs, and that the snapshot opens.
Stop latchkey id first. A SQLite database that is replaced is kept as <file>.before-restore-<time>.

  --verify   only check the backup and open its snapshot; change nothing
  --force    replace a database that has changes newer than the backup
  --json     print the result as JSON`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { force: { type: 'boolean' }, verify: { type: 'boolean' } }, true);
  if (values.help) return printHelp(HELP);
  const file = onePositional(positionals, 'backup file', 'latchkey restore FILE');
  const config = loadIdConfig({ env: process.env });
  const result = await restoreBackup({
    archivePath: resolve(file), dbConnectionString: config.dbConnectionString, encryptionKey: config.encryptionKey,
    force: values.force ?? false, verifyOnly: values.verify ?? false, keyOpensSigningKey: currentSigningKeyOpensWith,
  });
  const m = result.manifest;
  for (const warning of result.warnings) console.error(`latchkey restore: ${warning}`);
  print(values.json, result, () => result.restored
    ? [`Restored the backup of ${m.createdAt} into ${result.target}.`,
      ...(result.previousKeptAt ? [`The database it replaced is kept at ${result.previousKeptAt}.`] : []),
      'Start latchkey id (or latchkey serve); it applies any newer migrations on start.'].join('\n')
    : `The backup of ${m.createdAt} is intact (sha256 ${m.database.sha256}), matches the configured ENCRYPTION_KEY and ${m.database.kind === 'sqlite' ? 'opens' : 'is a pg_dump'}; nothing was changed.`);
  return 0;
}
