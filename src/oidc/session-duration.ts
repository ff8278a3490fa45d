import type { Adapter, Configuration } from 'oidc-provider';
import { nowSeconds, type Clock } from '../core/clock.ts';

// The session duration (Admin → Settings; SESSION_DURATION until an admin saves one) is how long a
// sign-in lasts before a passkey is needed again. It bounds what apps get from the provider as it
// bounds latchkey's web sessions: read as they read it (identity.settings: this instance's own save
// at once, another instance's within 30 s), never fixed at start.

/** The current duration; oidc-provider asks for lifetimes synchronously, so `last` keeps what `read` found. */
export interface SessionDuration {
  /** Reads the current setting (cached as identity.settings caches it), and remembers it. */
  read(): Promise<number>;
  /** What the last `read` found. */
  last(): number;
}

/** A fixed number (the CLI's provider, which serves no requests; tests) or the setting's reader. */
export async function sessionDuration(source: number | (() => Promise<number>)): Promise<SessionDuration> {
  const readSource = typeof source === 'number' ? async () => source : source;
  let seconds = await readSource();
  return {
    read: async () => (seconds = await readSource()),
    last: () => seconds,
  };
}

/**
 * The lifetimes that follow the duration. A provider Session lasts the duration from each time it
 * is saved (a sign-in, a new app), as before, and a Grant from when it is made. Tokens last at most
 * their `max` (what the admin API reports to Pocket ID scripts), and never past the duration
 * counted from the code exchange that started their chain (a refresh token's `iiat`, which every
 * rotation keeps): rotating no longer gives a refresh token a new lifetime, and with a duration
 * shorter than an hour an access or ID token does not outlive the app's sign-in either.
 * oidc-provider calls these while it serves a request, after `read` (provider.ts), and for a Grant
 * saved by /interaction/:uid, which follows an authorization request that read it moments before.
 */
export function sessionBoundTtls(duration: SessionDuration, clock: Clock, max: Record<'AccessToken' | 'IdToken' | 'RefreshToken', number>): Pick<NonNullable<Configuration['ttl']>, 'Session' | 'Grant' | 'AccessToken' | 'IdToken' | 'RefreshToken'> {
  /** Seconds left of the chain, at most `maxSeconds`; a chain starts now unless a refresh token says otherwise. */
  const untilChainEnd = (chainStart: number | undefined, maxSeconds: number) => {
    const now = nowSeconds(clock);
    return Math.max(1, Math.min(maxSeconds, (chainStart ?? now) + duration.last() - now));
  };
  /** The refresh token a refresh grant is using, whose chain the new tokens continue. */
  const usedRefreshToken = (ctx: unknown) => (ctx as { oidc?: { entities?: { RefreshToken?: { iiat?: number } } } } | undefined)?.oidc?.entities?.RefreshToken;
  return {
    Session: () => duration.last(),
    Grant: () => duration.last(),
    AccessToken: (ctx) => untilChainEnd(usedRefreshToken(ctx)?.iiat, max.AccessToken),
    IdToken: (ctx) => untilChainEnd(usedRefreshToken(ctx)?.iiat, max.IdToken),
    RefreshToken: (_ctx, token) => untilChainEnd((token as { iiat?: number }).iiat, max.RefreshToken),
  };
}

/**
 * Refresh tokens whose chain began longer ago than the current duration are not found, so a
 * duration shortened after an incident ends the ones apps already hold at their next use (oidc-
 * provider answers invalid_grant, as for an expired one), not only those issued afterwards.
 *
 * Why here: oidc-provider 9 has no hook that may refuse a refresh (issueRefreshToken and
 * rotateRefreshToken only decide whether to issue or rotate), and its lifetimes are fixed when a
 * token is saved, so stored expiries cannot follow a later change. Finding the token is the first
 * thing every use does (the refresh grant, introspection, revocation), before anything is consumed
 * or issued; the adapter's consume would come too late (after the account checks) and only when
 * rotating. Counted from the chain (the app's sign-in), not from the browser's sign-in at
 * latchkey (auth_time), as docs/configuration-id.md says: an app that signs in near the end of a
 * web session gets the whole duration, as one signing in at its start does. Existing provider
 * Sessions and Grants keep their stored expiry: neither
 * signs anyone in on its own (every authorization needs a live web session, see
 * latchkeySessionCheck), and what they could extend, refresh, is bounded here.
 */
export function refusingOutlivedRefreshTokens(factory: (model: string) => Adapter, duration: SessionDuration, clock: Clock): (model: string) => Adapter {
  return (model) => {
    const adapter = factory(model);
    if (model !== 'RefreshToken') return adapter;
    return {
      ...adapter,
      async find(id) {
        const payload = await adapter.find(id);
        const chainStart = payload?.iiat ?? payload?.iat;
        if (!payload || typeof chainStart !== 'number') return payload;
        return nowSeconds(clock) - chainStart < (await duration.read()) ? payload : undefined;
      },
    };
  };
}
