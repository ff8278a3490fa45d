import type { Clock } from '../core/clock.ts';
import type { Db } from '../storage/database.ts';

export interface AuthorizedApp {
  clientId: string;
  name: string;
  /** When the user last signed in to it (the newest grant's issue time), if known. */
  lastSignInAt: number | null;
}

interface GrantPayload { clientId?: string; iat?: number }

export interface LiveGrant {
  id: string;
  clientId: string;
  /** When it was issued (seconds), if known. */
  iat: number | null;
}

/**
 * The user's grants that have not expired: oidc-provider makes one at each authorization and keeps
 * it while its tokens live; `account_id` finds the user's without reading every payload.
 */
export async function liveGrantsOf(db: Db, clock: Clock, userId: string): Promise<LiveGrant[]> {
  const rows = await db.selectFrom('oidc_payloads').select(['id', 'payload']).where('account_id', '=', userId).where('model', '=', 'Grant')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', clock.nowMs())])).execute();
  return rows.flatMap((row) => {
    const grant = JSON.parse(row.payload) as GrantPayload;
    return grant.clientId ? [{ id: row.id, clientId: grant.clientId, iat: typeof grant.iat === 'number' ? grant.iat : null }] : [];
  });
}

/** The apps a user is signed in to now: one per client with a live grant of theirs. */
export async function listAuthorizedApps(db: Db, clock: Clock, userId: string): Promise<AuthorizedApp[]> {
  const latest = new Map<string, number | null>();
  for (const grant of await liveGrantsOf(db, clock, userId)) {
    const at = grant.iat === null ? null : grant.iat * 1000;
    const known = latest.get(grant.clientId);
    if (!latest.has(grant.clientId) || (at !== null && (known === null || known === undefined || at > known))) latest.set(grant.clientId, at);
  }
  if (latest.size === 0) return [];
  const clients = await db.selectFrom('oidc_clients').select(['id', 'name']).where('id', 'in', [...latest.keys()]).execute();
  const names = new Map(clients.map((client) => [client.id, client.name]));
  return [...latest].map(([clientId, lastSignInAt]) => ({ clientId, name: names.get(clientId) ?? clientId, lastSignInAt }))
    .sort((a, b) => (b.lastSignInAt ?? 0) - (a.lastSignInAt ?? 0));
}
