import type Provider from 'oidc-provider';
import type { AuditEvent } from '../identity/audit-log.ts';
import type { Db } from '../storage/database.ts';
import { type GrantPayload, type LogoutReport, notifyClients, revokeGrants, type SessionPayload } from './logout-user.ts';

/**
 * "Sign out of this app" on /account/sessions (Pocket ID's My apps → Revoke), for one client only:
 * 1. the client hears back-channel logout for each of the user's provider sessions that used it
 *    (or, for a grant that outlived its session, with sub alone), as in logoutUser();
 * 2. the user's grants for it end, with their codes, access and refresh tokens;
 * 3. the provider sessions forget it, so its next authorization starts afresh.
 * The user stays signed in here and in every other app. Returns what happened, for the audit log.
 */
export async function signOutOfApp(deps: { db: Db; provider: Provider; audit: (event: AuditEvent) => Promise<void> }, userId: string, clientId: string): Promise<LogoutReport> {
  const { db, provider } = deps;
  const rows = await db.selectFrom('oidc_payloads').select(['model', 'id', 'payload'])
    .where('account_id', '=', userId).where('model', 'in', ['Session', 'Grant']).execute();

  const sids = new Set<string | undefined>();
  const grantIds = new Set<string>();
  const sessionIds: string[] = [];
  for (const row of rows.filter((r) => r.model === 'Session')) {
    const authorization = (JSON.parse(row.payload) as SessionPayload).authorizations?.[clientId];
    if (!authorization) continue;
    sessionIds.push(row.id);
    sids.add(authorization.sid);
    if (authorization.grantId) grantIds.add(authorization.grantId);
  }
  for (const row of rows.filter((r) => r.model === 'Grant')) {
    if ((JSON.parse(row.payload) as GrantPayload).clientId !== clientId) continue;
    if (!grantIds.has(row.id) && sids.size === 0) sids.add(undefined);
    grantIds.add(row.id);
  }

  const notified = sids.size ? await notifyClients(provider, userId, new Map([[clientId, sids]])) : { notifiedClients: [], failedClients: [], clientsWithoutLogoutUri: [] };
  await db.transaction().execute(async (trx) => {
    await revokeGrants(trx, grantIds);
    for (const id of sessionIds) {
      // read again inside the transaction: the provider may have written the session meanwhile
      const row = await trx.selectFrom('oidc_payloads').select('payload').where('model', '=', 'Session').where('id', '=', id).executeTakeFirst();
      if (!row) continue;
      const session = JSON.parse(row.payload) as SessionPayload;
      delete session.authorizations?.[clientId];
      await trx.updateTable('oidc_payloads').set({ payload: JSON.stringify(session) }).where('model', '=', 'Session').where('id', '=', id).execute();
    }
  });
  const report: LogoutReport = { sessionsEnded: 0, grantsRevoked: grantIds.size, ...notified };
  await deps.audit({ event: 'oidc_logout_client', userId, clientId, details: { ...report } });
  return report;
}
