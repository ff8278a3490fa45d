// The one place this feature reads the users table: a disabled account may neither sign in with
// a passkey nor add one (the identity feature owns everything else about users).
import type { Db } from '../storage/database.ts';

export type AccountStatus = 'active' | 'disabled' | 'missing';

export async function readAccountStatus(db: Db, userId: string): Promise<AccountStatus> {
  const row = await db.selectFrom('users').select('disabled').where('id', '=', userId).executeTakeFirst();
  if (!row) return 'missing';
  return Number(row.disabled) === 0 ? 'active' : 'disabled';
}
