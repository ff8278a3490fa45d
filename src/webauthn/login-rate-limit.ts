// How many passkey sign-ins one address may start a minute. Anyone may press "Sign in with a
// passkey", and each start keeps a challenge in the ephemeral store for challengeTtlSeconds (five
// minutes): unbounded, one client could write rows as fast as the database takes them, and hold
// the writer that every real sign-in needs. Counted by core/address-rate-limit.ts, per address
// (an IPv4 address or an IPv6 /64) and per IPv6 /48, as authorization requests are.
import { createAddressRateLimit, type AddressRateLimit, type AddressRateLimitDeps } from '../core/address-rate-limit.ts';

/**
 * Passkey sign-in starts one address may make a minute. A person makes one per press of the
 * button: one for a sign-in, a few more when they cancel the browser's dialog or pick the wrong
 * passkey. A household or club behind one router, ten people signing in within the same minute,
 * each with a retry or two, makes 20 to 30. The flows it allows stay small: 30 × 10 minutes
 * (five to live, up to five more until the sweep) = 300 rows of a few hundred bytes per address.
 */
export const PASSKEY_SIGN_IN_STARTS_PER_MINUTE = 30;

/**
 * PASSKEY_SIGN_IN_STARTS_PER_MINUTE per address; off (`enabled` false) where
 * AUTHORIZE_REQUESTS_PER_MINUTE is 0, which turns every per-address limit on sign-in requests off.
 */
export function createPasskeySignInRateLimit(deps: Pick<AddressRateLimitDeps, 'store' | 'trustProxy' | 'log'> & { enabled: boolean }): AddressRateLimit {
  return createAddressRateLimit({
    ...deps, requestsPerMinute: deps.enabled ? PASSKEY_SIGN_IN_STARTS_PER_MINUTE : 0,
    name: 'passkey_sign_in', requests: 'passkey sign-in starts', limitName: `its limit (${PASSKEY_SIGN_IN_STARTS_PER_MINUTE} a minute)`,
    otherwise: 'set AUTHORIZE_REQUESTS_PER_MINUTE=0, which turns the per-address limits off',
    // The start keeps its challenge in the same store: it would fail on it a moment later anyway,
    // and failing here tells the outage once, where the store tells it (redis-store.ts).
    whenStoreFails: 'fail',
  });
}
