import { AppError } from '../core/errors.ts';
import type { Db, DbOrTransaction } from '../storage/database.ts';

// "Reset passkeys" removes every passkey of a user (a lost or stolen phone). It must never leave
// the server with no admin able to sign in: nobody could then issue the links that let people
// back in. So it is refused for an active admin unless another active admin has a passkey.

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
    await trx.updateTable('users').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('is_admin', '=', 1).execute();
    const refusal = await passkeyResetRefusal(trx, userId);
    if (refusal) throw refusal;
    const result = await trx.deleteFrom('passkeys').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  });
}
