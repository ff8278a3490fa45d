// Many people who look exactly like one real person. A benchmark enrols a template user and
// signs them in over HTTP; everything the id stored for them (user, passkey, the provider's
// session, grant and tokens in oidc_payloads, the id's own sessions, audit entries) is then copied
// `count` times with fresh identifiers, in batch inserts through kysely on the migrations' schema.
// What a sign-in stores is therefore whatever the product stores today, never a guess that goes
// stale. Every copy shares the template's passkey public key, so the benchmark can sign in as any
// of them (templateCredential + the copy's credential id and user handle).
import { randomBytes } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { Db } from '../../src/storage/database.ts';
import type { Schema } from '../../src/storage/schema.ts';
import type { ExportedCredential } from '../../test/helpers/soft-authenticator.ts';

export interface SeededAccount {
  userId: string;
  username: string;
  email: string;
  /** The copy's passkey credential id, base64url. */
  credentialId: string;
}

/** Tables whose rows belong to one person and grow with the number of people. */
type OwnedTable = 'users' | 'passkeys' | 'web_sessions' | 'audit_log' | 'oidc_payloads';
type Rows = { [T in OwnedTable]: Insertable<Schema[T]>[] };

// Payload fields of oidc-provider's models that hold identifiers (of the row itself or of rows it
// points at): a copy needs its own, consistently renamed across its rows.
const PAYLOAD_ID_FIELDS = new Set(['jti', 'uid', 'sessionUid', 'grantId', 'sid', 'accountId']);

function collectPayloadIds(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) for (const item of value) collectPayloadIds(item, into);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (PAYLOAD_ID_FIELDS.has(key) && typeof inner === 'string') into.add(inner);
      else collectPayloadIds(inner, into);
    }
  }
}

/**
 * A random base64url string as long as `like` (the ids here are all base64url). Whole bytes, so
 * it decodes and re-encodes to itself: a credential id travels as bytes in WebAuthn.
 */
function freshLike(like: string): string {
  const fresh = randomBytes(Math.floor((like.length * 6) / 8)).toString('base64url');
  return fresh.length === like.length ? fresh : (fresh + randomBytes(3).toString('base64url')).slice(0, like.length);
}

/**
 * The template's rows that a real deployment keeps: rows of oidc_payloads that are still valid
 * `minRemainingMs` from now (an authorization code lives a minute and is swept, a session a month).
 */
async function templateRows(db: Db, userId: string, minRemainingMs: number): Promise<Rows> {
  const keepAfter = Date.now() + minRemainingMs;
  const [users, passkeys, webSessions, audit, payloads] = await Promise.all([
    db.selectFrom('users').selectAll().where('id', '=', userId).execute(),
    db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).execute(),
    db.selectFrom('web_sessions').selectAll().where('user_id', '=', userId).execute(),
    db.selectFrom('audit_log').selectAll().where('user_id', '=', userId).execute(),
    db.selectFrom('oidc_payloads').selectAll().where('account_id', '=', userId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', keepAfter)])).execute(),
  ]);
  if (users.length !== 1 || passkeys.length !== 1) throw new Error(`the template user needs exactly one passkey (has ${passkeys.length})`);
  return { users, passkeys, web_sessions: webSessions, audit_log: audit, oidc_payloads: payloads };
}

/**
 * Adds `count` copies of the template user's data. Returns the copies, in order. `batchAccounts`
 * copies go into one transaction, with as few INSERTs as the bound-parameter limits allow. Copies are numbered from `firstNumber` (their usernames and
 * e-mail addresses must stay unique when a database grows in steps).
 */
export async function cloneAccounts(db: Db, templateUserId: string, count: number, options: { batchAccounts?: number; minRemainingMs?: number; firstNumber?: number } = {}): Promise<{ accounts: SeededAccount[]; rowsPerAccount: Record<OwnedTable, number> }> {
  const template = await templateRows(db, templateUserId, options.minRemainingMs ?? 10 * 60_000);
  const user = template.users[0];
  const passkey = template.passkeys[0];
  const ids = new Set<string>([user.id, passkey.id]);
  for (const row of template.web_sessions) ids.add(row.id_hash);
  for (const row of template.audit_log) ids.add(row.id);
  for (const row of template.oidc_payloads) {
    for (const value of [row.id, row.uid, row.grant_id]) if (value) ids.add(value);
    collectPayloadIds(JSON.parse(row.payload), ids);
  }
  const [local, domain] = (user.email ?? `${user.username}@example.com`).split('@');
  // Longest first, so the e-mail address is renamed as a whole before the username inside it.
  const names = [...ids, user.username, user.email].filter((s): s is string => Boolean(s)).sort((a, b) => b.length - a.length);
  const pattern = new RegExp(names.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');

  const accounts: SeededAccount[] = [];
  const batch = options.batchAccounts ?? 500;
  const first = options.firstNumber ?? 0;
  for (let start = first; start < first + count; start += batch) {
    const rows: Rows = { users: [], passkeys: [], web_sessions: [], audit_log: [], oidc_payloads: [] };
    for (let i = start; i < Math.min(first + count, start + batch); i++) {
      const renames = new Map<string, string>([...ids].map((id) => [id, freshLike(id)]));
      renames.set(user.username, `${user.username}-${i}`);
      if (user.email) renames.set(user.email, `${local}-${i}@${domain}`);
      const rename = <R extends object>(row: R): R => Object.fromEntries(Object.entries(row).map(([key, value]) =>
        [key, typeof value === 'string' ? value.replace(pattern, (found) => renames.get(found) ?? found) : value])) as R;
      for (const table of Object.keys(rows) as OwnedTable[]) for (const row of template[table]) (rows[table] as object[]).push(rename(row));
      accounts.push({ userId: renames.get(user.id)!, username: renames.get(user.username)!, email: renames.get(user.email ?? '') ?? '', credentialId: renames.get(passkey.id)! });
    }
    await db.transaction().execute(async (trx) => {
      // Parents first: passkeys, sessions and grants point at users.
      for (const table of ['users', 'passkeys', 'web_sessions', 'audit_log', 'oidc_payloads'] as const) {
        const list = rows[table];
        if (!list.length) continue;
        // Each INSERT under 30,000 bound parameters (PostgreSQL allows 65,535, SQLite 32,766).
        const perInsert = Math.max(1, Math.floor(30_000 / Object.keys(list[0]).length));
        for (let i = 0; i < list.length; i += perInsert) await trx.insertInto(table).values(list.slice(i, i + perInsert) as never).execute();
      }
    });
  }
  const rowsPerAccount = Object.fromEntries(Object.entries(template).map(([table, list]) => [table, list.length])) as Record<OwnedTable, number>;
  return { accounts, rowsPerAccount };
}

/** The credential a copy's browser holds: the template's key under the copy's id and user handle. */
export function credentialOf(template: ExportedCredential, account: SeededAccount): ExportedCredential {
  return { ...template, id: account.credentialId, userHandle: Buffer.from(account.userId).toString('base64url'), signCount: 0 };
}
