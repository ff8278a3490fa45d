// `latchkey backup`: a consistent online snapshot of the database, safe while latchkey id runs.
import { join, resolve } from 'node:path';
import { loadIdConfig } from '../config/id-config.ts';
import { badRequest } from '../core/errors.ts';
import { currentSigningKeyOpensWith } from '../oidc/keys.ts';
import { createBackup, pruneBackups } from '../storage/backup/create-backup.ts';
import { parseCommandArgs, print } from './args.ts';
import { latchkeyVersion } from './version.ts';

const HELP = `usage: latchkey backup [--out DIR] [--keep N] [--json]

Writes DIR/latchkey-backup-<time>.tar.gz: a consistent snapshot of the database (SQLite's online
backup, or pg_dump for PostgreSQL) and a manifest with its SHA-256, the schema migrations and the
fingerprint of the ENCRYPTION_KEY it needs. Safe while latchkey id runs. Reads the same
environment as latchkey id (DB_CONNECTION_STRING, ENCRYPTION_KEY …).

  --out DIR   where to write (default: DATA_DIR/backups)
  --keep N    afterwards, keep only the newest N backups in DIR
  --json      print the result as JSON

Keep ENCRYPTION_KEY somewhere other than the backups: the signing keys inside are sealed with it.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { out: { type: 'string' }, keep: { type: 'string' } }, false);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  let keep: number | null = null;
  if (values.keep !== undefined) {
    keep = /^\d+$/.test(values.keep) ? Number(values.keep) : NaN;
    if (!Number.isSafeInteger(keep) || keep < 1) throw badRequest('invalid_arguments', `--keep: expected a whole number of backups, at least 1 (got "${values.keep}")`);
  }
  const config = loadIdConfig({ env: process.env });
  const outDir = resolve(values.out ?? join(config.dataDir, 'backups'));
  const result = await createBackup({
    dbConnectionString: config.dbConnectionString, encryptionKey: config.encryptionKey, outDir,
    latchkeyVersion: latchkeyVersion(), now: () => new Date(), keyOpensSigningKey: currentSigningKeyOpensWith,
  });
  const pruned = keep === null ? [] : await pruneBackups(outDir, keep);
  const m = result.manifest;
  print(values.json, { path: result.path, manifest: m, pruned }, () => [
    `Backup written to ${result.path}`,
    `  ${m.database.kind} database, ${m.database.bytes} bytes, sha256 ${m.database.sha256}`,
    `  schema: ${m.database.migrations.at(-1)} (${m.database.migrations.length} migrations)`,
    `  needs ENCRYPTION_KEY with fingerprint ${m.encryptionKeyFingerprint}`,
    ...pruned.map((path) => `  removed old backup ${path}`),
  ].join('\n'));
  return 0;
}
