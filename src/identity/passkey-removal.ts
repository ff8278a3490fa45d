import { AppError } from '../core/errors.ts';
import type { Db } from '../storage/database.ts';
import { passkeyNotFound } from '../webauthn/errors.ts';
import { deletePasskey } from '../webauthn/passkey-store.ts';

// Who may delete which of their own passkeys. A person with no passkey can only get back in with a
// recovery code or an admin's one-time link; with no admin able to sign in, nobody can issue links.

export interface RemovalFacts {
  passkeyCount: number;
  unusedRecoveryCodes: number;
  /** The user is the only active admin. */
  isLastAdmin: boolean;
}

/** Null when the passkey may go, else why not (shown on the confirmation page and on refusal). */
export function passkeyRemovalRefusal(facts: RemovalFacts): AppError | null {
  if (facts.passkeyCount > 1) return null;
  if (facts.isLastAdmin)
    return new AppError('last_admin_passkey', 409, 'This is the only passkey of the only admin. Without it nobody could sign in to manage this server, so it cannot be deleted. Add another passkey first, then delete this one.');
  if (facts.unusedRecoveryCodes === 0)
    return new AppError('last_passkey', 409, 'This is your only passkey and you have no unused recovery codes, so deleting it would lock you out. Add another passkey or create recovery codes first.');
  return null;
}

export async function removalFacts(db: Db, userId: string): Promise<RemovalFacts> {
  const count = async (query: Promise<{ n: number | string | bigint }>) => Number((await query).n);
  const user = await db.selectFrom('users').select(['is_admin', 'disabled']).where('id', '=', userId).executeTakeFirst();
  const activeAdmins = user?.is_admin === 1 && user.disabled === 0
    ? await count(db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('is_admin', '=', 1).where('disabled', '=', 0).executeTakeFirstOrThrow())
    : 0;
  return {
    passkeyCount: await count(db.selectFrom('passkeys').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()),
    unusedRecoveryCodes: await count(db.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirstOrThrow()),
    isLastAdmin: activeAdmins === 1,
  };
}

/**
 * Deletes one of the user's own passkeys, unless that would lock them (or everyone) out. The user's
 * row is written first inside the transaction, which locks it (a row lock in PostgreSQL, the write
 * lock in SQLite): two deletes racing for a user's last two passkeys run one after the other, so
 * the second sees a count of one.
 */
export async function removeOwnPasskey(db: Db, userId: string, passkeyId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('id', '=', userId).execute();
    const owned = await trx.selectFrom('passkeys').select('id').where('id', '=', passkeyId).where('user_id', '=', userId).executeTakeFirst();
    if (!owned) throw passkeyNotFound();
    const refusal = passkeyRemovalRefusal(await removalFacts(trx, userId));
    if (refusal) throw refusal;
    await deletePasskey(trx, { userId, passkeyId });
  });
}
