import type { Db } from '../storage/database.ts';
import type { UsersTable } from '../storage/schema.ts';

export type AccessDecision =
  | { kind: 'allowed'; user: UsersTable }
  | { kind: 'refused'; reason: 'unknown_user' | 'disabled' | 'not_in_allowed_group' | 'unknown_client' };

/**
 * Whether `userId` may sign in to `clientId`: the account exists and is enabled, and the client is
 * unrestricted or shares a group with the user. A client with no groups and not unrestricted
 * admits nobody, so forgetting to pick groups fails closed.
 */
export async function decideAccess(db: Db, userId: string, clientId: string): Promise<AccessDecision> {
  const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
  if (!user) return { kind: 'refused', reason: 'unknown_user' };
  if (user.disabled === 1) return { kind: 'refused', reason: 'disabled' };
  const client = await db.selectFrom('oidc_clients').select('unrestricted').where('id', '=', clientId).executeTakeFirst();
  if (!client) return { kind: 'refused', reason: 'unknown_client' };
  if (client.unrestricted === 1) return { kind: 'allowed', user };
  const shared = await db.selectFrom('client_groups')
    .innerJoin('user_groups', 'user_groups.group_id', 'client_groups.group_id')
    .select('client_groups.group_id')
    .where('client_groups.client_id', '=', clientId).where('user_groups.user_id', '=', userId)
    .executeTakeFirst();
  return shared ? { kind: 'allowed', user } : { kind: 'refused', reason: 'not_in_allowed_group' };
}

export const refusalMessage = (reason: Extract<AccessDecision, { kind: 'refused' }>['reason'], clientName: string): string => {
  switch (reason) {
    case 'disabled': return 'Your account is disabled. Ask an administrator to enable it.';
    case 'not_in_allowed_group': return `Your account is not allowed to use ${clientName}. Ask an administrator to add you to one of its groups.`;
    case 'unknown_client': return 'This application is no longer registered.';
    default: return 'Your account no longer exists.';
  }
};

export async function groupNamesOf(db: Db, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('user_groups').innerJoin('groups', 'groups.id', 'user_groups.group_id')
    .select('groups.name').where('user_groups.user_id', '=', userId).orderBy('groups.name').execute();
  return rows.map((r) => r.name);
}
