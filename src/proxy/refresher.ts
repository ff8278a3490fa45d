// Refreshes a session with its refresh token, once per token. A page with many private assets
// sends many /oauth2/auth checks with the same cookie at once; providers that rotate refresh
// tokens treat a second use as theft and revoke the grant (RFC 9700 §4.14.2). So concurrent
// checks share one refresh, and checks that still carry the old cookie for a short while after
// get the same result instead of spending the token again. That holds within this process; with
// a session store shared by several instances (Redis), the store also makes it hold between them
// (`share`, redis-session-store.ts): one instance refreshes, the others take its outcome.
//
// When the provider does not answer, the session is kept (it is still valid) and refreshes wait
// PROVIDER_RETRY_MS before asking again: otherwise every check of every session due for a refresh
// would wait for the provider (up to its 10 s timeout when its address drops packets) and log a
// line. The outage is logged in a few lines (outage-log.ts).
import type { Clock } from '../core/clock.ts';
import { sha256Base64url } from '../core/crypto.ts';
import { createOutageLog, type OutageLogger } from '../core/outage-log.ts';
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

/** After the provider failed to answer a refresh, how long refreshes wait before asking it again. */
export const PROVIDER_RETRY_MS = 10_000;

export interface RefresherDeps {
  clock: Clock;
  /** The provider's answer says no (invalid_grant): the session ends. Anything else is an outage. */
  isRefusal: (error: unknown) => boolean;
  logger: OutageLogger;
  share?: ShareRefresh;
}

export function createRefresher(config: ProxyConfig, oidc: OidcClient, deps: RefresherDeps): Refresher {
  const { clock, isRefusal, share } = deps;
  const recent = new Map<string, { outcome: Promise<RefreshOutcome>; forgetAtMs: number }>();
  const outage = createOutageLog({
    backend: 'The identity provider', logger: deps.logger, clock,
    meanwhile: `sessions due for a refresh are kept as they are and refreshed once it answers (asked again every ${PROVIDER_RETRY_MS / 1000} s)`,
    counted: ['session refresh', 'session refreshes'],
  });
  let askAgainAtMs = 0;
  let providerError: unknown = null;

  const spend = async (session: Session): Promise<RefreshOutcome> => {
    try {
      const tokens = await oidc.refresh(session.refreshToken, session.sub);
      outage.answered();
      return { kind: 'refreshed', session: sessionFromTokens(config, tokens, Math.floor(clock.nowMs() / 1000), session) };
    } catch (error) {
      if (isRefusal(error) || (error as { status?: number }).status === 403) {
        outage.answered();
        return { kind: 'refused', cause: error };
      }
      askAgainAtMs = clock.nowMs() + PROVIDER_RETRY_MS;
      providerError = error;
      return { kind: 'unavailable', cause: outage.requestFailed(error) };
    }
  };
  // A store that fails before the refresh ran (Redis unreachable) has spent nothing: keep the session.
  const run = (session: Session): Promise<RefreshOutcome> =>
    share ? share(session, () => spend(session)).catch((cause: unknown) => ({ kind: 'unavailable', cause })) : spend(session);

  return {
    refresh(session) {
      const now = clock.nowMs();
      if (now < askAgainAtMs) return Promise.resolve({ kind: 'unavailable', cause: outage.requestFailed(providerError) });
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
