import { AppError } from '../core/errors.ts';
import type { Db, DbOrTransaction } from '../storage/database.ts';
import { passkeyNotFound } from '../webauthn/errors.ts';
import { deletePasskey } from '../webauthn/passkey-store.ts';

// An admin removes a user's passkeys: all of them ("Reset passkeys", a lost or stolen phone and no
// other device) or one (the lost device, when the user has others; Pocket ID's admin passkey
// revoke). Neither may leave the server with no admin able to sign in: nobody could then issue
// the links that let people back in. So taking away an active admin's last passkey is refused
// unless another active admin has a passkey.

export const lastAdminPasskeys = (username: string) => new AppError('last_admin_passkey', 409,
  `${username} is the only admin who can sign in with a passkey. Removing these passkeys would lock everyone out of this console. Make another person an admin and let them register a passkey first.`);

/** Null when the reset may go ahead, else the refusal to show. */
export async function passkeyResetRefusal(conn: DbOrTransaction, userId: string): Promise<AppError | null> {
  const user = await conn.selectFrom('users').select(['username', 'is_admin', 'disabled']).where('id', '=', userId).executeTakeFirst();
  if (!user || user.is_admin !== 1 || user.disabled === 1) return null;
  const otherAdminWithPasskey = await conn.selectFrom('users').innerJoin('passkeys', 'passkeys.user_id', 'users.id')
    .select('users.id').where('users.is_admin', '=', 1).where('users.disabled', '=', 0).where('users.id', '!=', userId)
    .limit(1).executeTakeFirst();
  return otherAdminWithPasskey ? null : lastAdminPasskeys(user.username);
}

/**
 * Deletes all of a user's passkeys and returns how many. Every admin's row is written first inside
 * the transaction (a row lock in PostgreSQL, the write lock in SQLite), so two admins resetting
 * each other at the same moment run one after the other and the second is refused.
 */
export async function resetPasskeys(db: Db, userId: string): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await lockAdmins(trx);
    const refusal = await passkeyResetRefusal(trx, userId);
    if (refusal) throw refusal;
    const result = await trx.deleteFrom('passkeys').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  });
}

/** Writes every admin's row (a no-op update): concurrent removals that could lock everyone out run one after the other. */
async function lockAdmins(trx: DbOrTransaction): Promise<void> {
  await trx.updateTable('users').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('is_admin', '=', 1).execute();
}

/** Null when this passkey of the user may go, else the refusal: only the last one can matter. */
export async function passkeyRemovalByAdminRefusal(conn: DbOrTransaction, userId: string, passkeyId: string): Promise<AppError | null> {
  const owned = await conn.selectFrom('passkeys').select('id').where('id', '=', passkeyId).where('user_id', '=', userId).executeTakeFirst();
  if (!owned) return passkeyNotFound();
  const other = await conn.selectFrom('passkeys').select('id').where('user_id', '=', userId).where('id', '!=', passkeyId).limit(1).executeTakeFirst();
  return other ? null : passkeyResetRefusal(conn, userId);
}

/** Deletes one passkey of a user, under the same lock and rule as a reset. */
export async function removeUserPasskey(db: Db, userId: string, passkeyId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await lockAdmins(trx);
    const refusal = await passkeyRemovalByAdminRefusal(trx, userId, passkeyId);
    if (refusal) throw refusal;
    await deletePasskey(trx, { userId, passkeyId });
  });
}
