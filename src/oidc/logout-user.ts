import type Provider from 'oidc-provider';
import type { AuditEvent } from '../identity/audit-log.ts';
import { sql } from 'kysely';
import type { Db, DbOrTransaction } from '../storage/database.ts';
import { storedPayloadId } from './adapter.ts';
import { causeChain } from '../core/errors.ts';

export interface LogoutReport {
  sessionsEnded: number;
  grantsRevoked: number;
  /** Clients that accepted a logout token (HTTP 200/204). */
  notifiedClients: string[];
  /**
   * Clients whose back-channel logout endpoint failed, the address tried and why. Their tokens
   * are revoked regardless, but a session the app keeps itself (a proxy's cookie) is not ended.
   */
  failedClients: { clientId: string; uri: string; reason: string }[];
  /**
   * Clients the user had a session or grant with that have no back-channel logout URI, so cannot be
   * told: their tokens are revoked, but a session the app keeps itself (a proxy's cookie) goes on.
   */
  clientsWithoutLogoutUri: string[];
}

/** What notifyClients adds to a report. */
export type NotifiedClients = Pick<LogoutReport, 'notifiedClients' | 'failedClients' | 'clientsWithoutLogoutUri'>;

/**
 * Deletes grants with every code, access and refresh token made under them. Not a pending
 * Interaction that carries a grant's id (one asking to extend it): that belongs to a browser in
 * the middle of signing in, which may go on as someone else (another user's sign-in ends the
 * previous one's session here, identity/routes.ts signIn), and is given a new grant then
 * (interactions.ts never reuses another user's). As adapter.ts revokeByGrantId, for the same reason.
 */
export async function revokeGrants(trx: DbOrTransaction, grantIds: ReadonlySet<string>): Promise<void> {
  if (grantIds.size === 0) return;
  await trx.deleteFrom('oidc_payloads').where('grant_id', 'in', [...grantIds]).where('model', '!=', 'Interaction').execute();
  await trx.deleteFrom('oidc_payloads').where('model', '=', 'Grant').where('id', 'in', [...grantIds]).execute();
}

/**
 * Everything one client holds (its grants with their codes, access and refresh tokens, its pushed
 * requests), and every provider session's memory of it: for a client that is deleted, whose id
 * could be registered again for another app, or that stops being confidential, whose refresh
 * tokens would then be usable without the secret they were issued against.
 */
export async function forgetClient(trx: DbOrTransaction, clientId: string): Promise<void> {
  // Only rows whose JSON names the client are read and parsed; ids are matched exactly after.
  const like = `%${JSON.stringify(clientId).replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
  const naming = await trx.selectFrom('oidc_payloads').select(['model', 'id', 'payload'])
    .where(sql<boolean>`payload like ${like} escape '\\'`).execute();
  const grantIds = new Set<string>();
  const held: { model: string; id: string }[] = [];
  for (const row of naming) {
    const payload = JSON.parse(row.payload) as GrantPayload & SessionPayload;
    if (row.model === 'Session' && payload.authorizations?.[clientId]) {
      delete payload.authorizations[clientId];
      await trx.updateTable('oidc_payloads').set({ payload: JSON.stringify(payload) }).where('model', '=', 'Session').where('id', '=', row.id).execute();
    } else if (row.model === 'Grant' && payload.clientId === clientId) grantIds.add(row.id);
    else if (payload.clientId === clientId) held.push(row);
  }
  await revokeGrants(trx, grantIds);
  for (const row of held) await trx.deleteFrom('oidc_payloads').where('model', '=', row.model).where('id', '=', row.id).execute();
}

export interface SessionPayload { authorizations?: Record<string, { sid?: string; grantId?: string }> }
export interface GrantPayload { clientId?: string }

/**
 * Sends each client with a backchannel_logout_uri one logout token per sid (undefined: only sub is
 * known), built and signed by oidc-provider's own `client.backchannelLogout(sub, sid)`. A client
 * without one is reported as such (a proxy registered without it keeps its cookie session); a
 * client that no longer exists has nothing to tell.
 */
export async function notifyClients(provider: Provider, userId: string, targets: Map<string, Set<string | undefined>>): Promise<NotifiedClients> {
  const report: NotifiedClients = { notifiedClients: [], failedClients: [], clientsWithoutLogoutUri: [] };
  for (const [clientId, sids] of targets) {
    // backchannelLogout(sub, sid) exists on v9's Client (lib/models/client.js) but not in its typings.
    const client = await provider.Client.find(clientId).catch(() => undefined) as
      | { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string | undefined): Promise<void> } | undefined;
    if (!client) continue;
    if (!client.backchannelLogoutUri) {
      report.clientsWithoutLogoutUri.push(clientId);
      continue;
    }
    const failures: string[] = [];
    for (const sid of sids) {
      await client.backchannelLogout(userId, sid).catch((error: Error) => { failures.push(causeChain(error)); });
    }
    if (failures.length) report.failedClients.push({ clientId, uri: client.backchannelLogoutUri, reason: failures[0] });
    else report.notifiedClients.push(clientId);
  }
  return report;
}

/**
 * Signs a user out everywhere (an administrator disabled them, or they chose "sign out everywhere"):
 * 1. every provider session of the user ends;
 * 2. each client with a backchannel_logout_uri that the user had a session or grant with receives a
 *    logout token (OIDC Back-Channel Logout §2.4–2.5: sub, and sid when the session is known),
 *    built and signed by oidc-provider's own `client.backchannelLogout(sub, sid)`;
 * 3. every grant is revoked with its codes, access and refresh tokens.
 * A failed notification does not stop the revocation: the tokens are dead either way.
 */
export async function logoutUser(deps: { db: Db; provider: Provider; audit: (event: AuditEvent) => Promise<void> }, userId: string, only?: { sessionId: string }): Promise<LogoutReport> {
  const { db, provider } = deps;
  // With `only`, just one browser's provider session (the id its session cookie holds) and the
  // grants made in it: signing out on the laptop leaves the phone signed in.
  const sessionRowId = only && storedPayloadId('Session', only.sessionId);
  let query = db.selectFrom('oidc_payloads').select(['model', 'id', 'payload']).where('account_id', '=', userId);
  query = sessionRowId ? query.where('model', '=', 'Session').where('id', '=', sessionRowId) : query.where('model', 'in', ['Session', 'Grant']);
  const rows = await query.execute();

  // clientId → sids to notify (undefined: a grant outlived its session, so only sub is known)
  const targets = new Map<string, Set<string | undefined>>();
  const grantIds = new Set<string>();
  // Sessions first: a grant whose session is known is notified with that session's sid only.
  rows.sort((a, b) => Number(b.model === 'Session') - Number(a.model === 'Session'));
  for (const row of rows) {
    if (row.model === 'Session') {
      for (const [clientId, authorization] of Object.entries((JSON.parse(row.payload) as SessionPayload).authorizations ?? {})) {
        if (!targets.has(clientId)) targets.set(clientId, new Set());
        targets.get(clientId)!.add(authorization.sid);
        if (authorization.grantId) grantIds.add(authorization.grantId);
      }
    } else {
      grantIds.add(row.id);
      const clientId = (JSON.parse(row.payload) as GrantPayload).clientId;
      if (clientId && !targets.has(clientId)) targets.set(clientId, new Set([undefined]));
    }
  }

  const report: LogoutReport = { sessionsEnded: rows.filter((r) => r.model === 'Session').length, grantsRevoked: grantIds.size, ...await notifyClients(provider, userId, targets) };

  await db.transaction().execute(async (trx) => {
    await revokeGrants(trx, grantIds);
    if (sessionRowId) {
      await trx.deleteFrom('oidc_payloads').where('model', '=', 'Session').where('id', '=', sessionRowId).execute();
      return;
    }
    // Sessions, grants and any token that names the user (codes, access and refresh tokens).
    await trx.deleteFrom('oidc_payloads').where('account_id', '=', userId).execute();
  });
  await deps.audit({ event: only ? 'oidc_logout_session' : 'oidc_logout_user', userId, details: { ...report } });
  return report;
}
