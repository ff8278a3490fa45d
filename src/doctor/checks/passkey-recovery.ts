import { sql } from 'kysely';
import { type Check, combine, fail, skip, warn, type CheckResult } from '../check.ts';

// Failure mode 6: a user whose only passkey is lost cannot sign in. Prevent it with a second
// passkey on another device and recovery codes; an admin can still hand out a one-time link
// (latchkey one-time-link) as long as one admin can sign in or someone has the server.
export const passkeyRecovery: Check = {
  id: 'passkey-recovery',
  title: 'Nobody is one lost device away from being locked out',
  async run(ctx) {
    const database = await ctx.database().catch((error: Error) => ({ error: error.message }));
    if (!database) return skip(ctx.noDatabase);
    if ('error' in database) return fail(`the database could not be opened: ${database.error}`, 'pass the id\'s database: DB_CONNECTION_STRING=… latchkey doctor (a SQLite path or postgres:// URL)');
    const { db } = database;
    const tables = await db.introspection.getTables();
    if (!tables.some((t) => t.name === 'users')) return fail('the database has no users table: it is not latchkey id\'s database (or was never started)', 'point DB_CONNECTION_STRING at the database latchkey id uses');
    const users = await db.selectFrom('users').select(['id', 'username', 'is_admin']).where('disabled', '=', 0).execute();
    const passkeys = await db.selectFrom('passkeys').select(['user_id']).execute();
    const count = new Map<string, number>();
    for (const p of passkeys) count.set(p.user_id, (count.get(p.user_id) ?? 0) + 1);

    const codesTable = tables.find((t) => t.name === 'recovery_codes');
    const codes = new Map<string, number>();
    if (codesTable) {
      // not in the typed schema on purpose: older databases have no such table
      const { rows } = await sql<{ user_id: string }>`select user_id from recovery_codes where used_at is null`.execute(db);
      for (const r of rows) codes.set(r.user_id, (codes.get(r.user_id) ?? 0) + 1);
    }
    const covered = (id: string) => (count.get(id) ?? 0) >= 2 || (codes.get(id) ?? 0) > 0;
    const results: CheckResult[] = [];
    const admins = users.filter((u) => u.is_admin === 1);
    const recoveryHow = 'register a second passkey on another device (account page → Add a passkey)' + (codesTable ? ' or create recovery codes (account page → Recovery codes)' : '');
    if (!admins.length) results.push(fail('no enabled admin: nobody can add users or hand out recovery links in the browser', 'on the server: latchkey user update <username> --admin (or latchkey setup-link on a fresh install)'));
    else if (admins.length === 1) results.push(warn(`only one admin (${admins[0].username}): if they are locked out, only the server's shell can help`, 'make a second trusted person admin: latchkey user update <username> --admin'));
    const lonelyAdmins = admins.filter((u) => (count.get(u.id) ?? 0) === 1 && !covered(u.id));
    if (lonelyAdmins.length) results.push(warn(`admin${lonelyAdmins.length > 1 ? 's' : ''} ${lonelyAdmins.map((u) => u.username).join(', ')} ha${lonelyAdmins.length > 1 ? 've' : 's'} a single passkey and no recovery codes`, recoveryHow));
    const lonely = users.filter((u) => u.is_admin !== 1 && (count.get(u.id) ?? 0) === 1 && !covered(u.id));
    if (lonely.length) results.push(warn(`${lonely.length} user(s) with a single passkey and no recovery codes: ${lonely.map((u) => u.username).join(', ')}`, `${recoveryHow}; if one is lost: latchkey one-time-link <username>`));
    const summary = `${users.length} user(s), ${admins.length} admin(s); every user has a second passkey or recovery codes${codesTable ? '' : ' (this database has no recovery_codes table yet)'}`;
    return combine(results, summary);
  },
};
