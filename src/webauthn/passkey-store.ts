// The passkeys table. Changes that belong to one user (rename, delete) are scoped to the owner in
// the query itself, so a caller that forgets to check ownership still cannot touch another
// user's passkey.
import type { Db } from '../storage/database.ts';
import type { PasskeysTable } from '../storage/schema.ts';

export interface Passkey {
  /** The credential ID, base64url. */
  id: string;
  userId: string;
  /** COSE_Key, base64url. */
  publicKey: string;
  signCount: number;
  transports: string[];
  name: string;
  aaguid: string;
  backupEligible: boolean;
  backupState: boolean;
  createdAtMs: number;
  lastUsedAtMs: number | null;
}

export type NewPasskey = Omit<Passkey, 'lastUsedAtMs'>;

function parseTransports(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

const fromRow = (row: PasskeysTable): Passkey => ({
  id: row.id,
  userId: row.user_id,
  publicKey: row.public_key,
  signCount: Number(row.sign_count),
  transports: parseTransports(row.transports),
  name: row.name,
  aaguid: row.aaguid,
  backupEligible: row.backup_eligible === 1,
  backupState: row.backup_state === 1,
  createdAtMs: Number(row.created_at),
  lastUsedAtMs: row.last_used_at === null ? null : Number(row.last_used_at),
});

export async function listPasskeysByUser(db: Db, userId: string): Promise<Passkey[]> {
  const rows = await db.selectFrom('passkeys').selectAll().where('user_id', '=', userId)
    .orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
  return rows.map(fromRow);
}

export async function findPasskey(db: Db, credentialId: string): Promise<Passkey | null> {
  const row = await db.selectFrom('passkeys').selectAll().where('id', '=', credentialId).executeTakeFirst();
  return row ? fromRow(row) : null;
}

export async function countPasskeysByUser(db: Db, userId: string): Promise<number> {
  const row = await db.selectFrom('passkeys').select((eb) => eb.fn.countAll<number>().as('count'))
    .where('user_id', '=', userId).executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function addPasskey(db: Db, passkey: NewPasskey): Promise<Passkey> {
  await db.insertInto('passkeys').values({
    id: passkey.id,
    user_id: passkey.userId,
    public_key: passkey.publicKey,
    sign_count: passkey.signCount,
    transports: JSON.stringify(passkey.transports),
    name: passkey.name,
    aaguid: passkey.aaguid,
    backup_eligible: passkey.backupEligible ? 1 : 0,
    backup_state: passkey.backupState ? 1 : 0,
    created_at: passkey.createdAtMs,
    last_used_at: null,
  }).execute();
  return { ...passkey, lastUsedAtMs: null };
}

/** Returns false when the passkey does not exist or belongs to someone else. */
export async function renamePasskey(db: Db, owner: { userId: string; passkeyId: string }, name: string): Promise<boolean> {
  const result = await db.updateTable('passkeys').set({ name })
    .where('id', '=', owner.passkeyId).where('user_id', '=', owner.userId).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Returns false when the passkey does not exist or belongs to someone else. */
export async function deletePasskey(db: Db, owner: { userId: string; passkeyId: string }): Promise<boolean> {
  const result = await db.deleteFrom('passkeys')
    .where('id', '=', owner.passkeyId).where('user_id', '=', owner.userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * After a verified assertion: the new signature counter (WebAuthn §7.2 step 22), when, and the BS
 * flag. The counter check is repeated in the update itself, so two assertions verified at the same
 * time against the same stored counter (a copied authenticator used alongside the original) cannot
 * both pass: the second finds the counter already moved and nothing is written. Returns false then
 * (or when the passkey was removed meanwhile).
 */
export async function recordPasskeyUse(db: Db, passkeyId: string, use: { signCount: number; usedAtMs: number; backupState: boolean }): Promise<boolean> {
  const result = await db.updateTable('passkeys')
    .set({ sign_count: use.signCount, last_used_at: use.usedAtMs, backup_state: use.backupState ? 1 : 0 })
    .where('id', '=', passkeyId)
    // A counter of zero means the authenticator keeps none (synced passkeys); it stays accepted only
    // while the stored one is zero too, as the library's own check says.
    .where('sign_count', use.signCount === 0 ? '=' : '<', use.signCount)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
