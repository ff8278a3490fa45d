import type { Account, KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../storage/database.ts';
import { decideAccess, groupNamesOf } from './access.ts';

// Scope → claims, as Pocket ID issues them (OIDC Core §5.4 plus `groups`).
export const CLAIMS_BY_SCOPE = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  groups: ['groups'],
} as const;

/**
 * oidc-provider's `findAccount`, called at the token endpoint, at userinfo and on refresh. Returning
 * nothing makes those fail, so an account disabled (or removed from the client's groups) after it
 * signed in stops getting tokens and claims at once, not when its tokens expire.
 */
export function createFindAccount(db: Db) {
  return async (ctx: KoaContextWithOIDC, sub: string): Promise<Account | undefined> => {
    const clientId = ctx.oidc?.client?.clientId;
    if (clientId) {
      const decision = await decideAccess(db, sub, clientId);
      if (decision.kind !== 'allowed') return undefined;
    } else {
      const user = await db.selectFrom('users').select(['id', 'disabled']).where('id', '=', sub).executeTakeFirst();
      if (!user || user.disabled === 1) return undefined;
    }
    return {
      accountId: sub,
      async claims(_use, scope) {
        const user = await db.selectFrom('users').selectAll().where('id', '=', sub).executeTakeFirstOrThrow();
        const name = [user.first_name, user.last_name].filter(Boolean).join(' ');
        return {
          sub,
          ...(user.email ? { email: user.email, email_verified: user.email_verified === 1 } : {}),
          name: name || user.username,
          ...(user.first_name ? { given_name: user.first_name } : {}),
          ...(user.last_name ? { family_name: user.last_name } : {}),
          preferred_username: user.username,
          ...(scope.split(' ').includes('groups') ? { groups: await groupNamesOf(db, sub) } : {}),
        };
      },
    };
  };
}
