import { statSync } from 'node:fs';
import { isPostgresUrl, sqlitePathOf } from '../../storage/database.ts';
import { type Check, fail, ok, skip } from '../check.ts';

// The SQLite database holds every account (names, email addresses, passkeys' public keys), the
// audit log with client addresses, and the signing keys (sealed with ENCRYPTION_KEY). Tokens and
// session cookies are kept only as their SHA-256 (oidc/adapter.ts), so reading it signs nobody
// in, but writing it does: a local user who can write it can add themselves as an admin.
// latchkey creates it 0600 (storage/database.ts); a file from an older version, or one copied in
// by hand, may not be.
export const databaseFileMode: Check = {
  id: 'database-file-mode',
  title: 'Only its owner can read the SQLite database',
  run(ctx) {
    const connection = ctx.inputs.dbConnectionString;
    if (!connection) return skip(ctx.noDatabase);
    if (isPostgresUrl(connection)) return skip('PostgreSQL: its own access rules apply');
    const path = sqlitePathOf(connection);
    if (statSync(path, { throwIfNoEntry: false }) === undefined) return skip(`no database at ${path}`);
    const readable = ['', '-wal', '-shm'].flatMap((suffix) => {
      const mode = statSync(`${path}${suffix}`, { throwIfNoEntry: false })?.mode;
      return mode !== undefined && (mode & 0o077) !== 0 ? [`${path}${suffix} (${(mode & 0o777).toString(8).padStart(4, '0')})`] : [];
    });
    if (readable.length === 0) return ok(`${path} is readable by its owner only`);
    return fail(`other users can read or write ${readable.join(', ')}: it holds every account and email address and the audit log, and whoever can write to it can make themselves an admin`, `chmod 600 ${path}*`);
  },
};
