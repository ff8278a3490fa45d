// Refreshes a session with its refresh token, once per token. A page with many private assets
// sends many /oauth2/auth checks with the same cookie at once; providers that rotate refresh
// tokens treat a second use as theft and revoke the grant (RFC 9700 §4.14.2). So concurrent
// checks share one refresh, and checks that still carry the old cookie for a short while after
// get the same result instead of spending the token again. That holds within this process; with
// a session store shared by several instances (Redis), the store also makes it hold between them
// (`share`, redis-session-store.ts): one instance refreshes, the others take its outcome.
import type { Clock } from '../core/clock.ts';
import { sha256Base64url } from '../core/crypto.ts';
import type { ProxyConfig } from './config.ts';
import type { OidcClient } from './oidc-client.ts';
import { sessionFromTokens } from './session-from-tokens.ts';
import type { Session } from './session.ts';

export type RefreshOutcome = { kind: 'refreshed'; session: Session } | { kind: 'refused'; cause: unknown } | { kind: 'unavailable'; cause: unknown };

export interface Refresher {
  refresh(session: Session): Promise<RefreshOutcome>;
}

/**
 * Runs `refresh` (which spends `due`'s refresh token) in one proxy instance of those sharing a
 * session store, and gives the others its outcome. It may answer 'unavailable' without running
 * `refresh` (another instance is still at it): the session is kept and a later check asks again.
 */
export type ShareRefresh = (due: Session, refresh: () => Promise<RefreshOutcome>) => Promise<RefreshOutcome>;

/** How long a refresh's outcome answers checks that still carry the old cookie, in this process. */
export const REFRESH_REMEMBER_MS = 60_000;

export function createRefresher(config: ProxyConfig, oidc: OidcClient, clock: Clock, isRefusal: (error: unknown) => boolean, share?: ShareRefresh): Refresher {
  const recent = new Map<string, { outcome: Promise<RefreshOutcome>; forgetAtMs: number }>();

  const spend = async (session: Session): Promise<RefreshOutcome> => {
    try {
      const tokens = await oidc.refresh(session.refreshToken, session.sub);
      return { kind: 'refreshed', session: sessionFromTokens(config, tokens, Math.floor(clock.nowMs() / 1000), session) };
    } catch (error) {
      return isRefusal(error) || (error as { status?: number }).status === 403 ? { kind: 'refused', cause: error } : { kind: 'unavailable', cause: error };
    }
  };
  // A store that fails before the refresh ran (Redis unreachable) has spent nothing: keep the session.
  const run = (session: Session): Promise<RefreshOutcome> =>
    share ? share(session, () => spend(session)).catch((cause: unknown) => ({ kind: 'unavailable', cause })) : spend(session);

  return {
    refresh(session) {
      const now = clock.nowMs();
      for (const [key, entry] of recent) if (entry.forgetAtMs <= now) recent.delete(key);
      const key = sha256Base64url(session.refreshToken);
      const known = recent.get(key);
      if (known) return known.outcome;
      const outcome = run(session);
      recent.set(key, { outcome, forgetAtMs: now + REFRESH_REMEMBER_MS });
      // A failure that is not a refusal (network) may be retried by the next check.
      outcome.then((o) => { if (o.kind === 'unavailable') recent.delete(key); });
      return outcome;
    },
  };
}
