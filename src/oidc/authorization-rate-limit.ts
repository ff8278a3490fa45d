// How many authorization requests, and pushed authorization requests, one address may send a
// minute; counted by core/address-rate-limit.ts, per address and per IPv6 /48.
//
// Authorization requests: anyone may send them, as the client_id and its redirect_uri are in every
// sign-in redirect. Each one that needs a sign-in makes oidc-provider keep an Interaction row for
// TTL_SECONDS.Interaction (30 minutes); nothing else bounds how many. Every request to the endpoint
// counts, one answered from an existing sign-in (prompt=none, a provider session) too: telling them
// apart would cost the provider's own work, and a browser that signs in makes one or two. At the
// default 60 a minute, the /48 count (4 × 60 = 240, ADDRESS_BLOCK_MULTIPLIER) holds one /48 to some
// 8,400 pending sign-ins (~75 MB), where without it the /48 could hold 65,536 times a /64's 2,100.
//
// Pushed authorization requests (RFC 9126, POST /api/oidc/par): a public client authenticates with
// its client_id alone, so anyone may push for it too, and each push makes oidc-provider keep a
// PushedAuthorizationRequest row (its parameters, up to 8 KiB of body, authorization-size.ts).
import { createAddressRateLimit, type AddressRateLimit, type AddressRateLimitDeps } from '../core/address-rate-limit.ts';

/**
 * Pushed authorization requests one address may send a minute. A push is one per sign-in at an app
 * that uses PAR, and is followed by that sign-in's authorization request: for a public client
 * (an app in the browser) both come from the browser's address, so the push needs no more than the
 * default AUTHORIZE_REQUESTS_PER_MINUTE, 60; for a confidential client the app's server pushes for
 * every user, and 60 a minute (one sign-in a second, all minute) is far past a self-hosted site.
 * A row lives 60 s (oidc-provider's PAR lifetime) and the sweep removes it within 5 minutes more,
 * so one address holds at most 60 × 6 = 360 rows of at most ~12 KB (an 8 KiB body, stored as a
 * base64url request object), some 4 MB; before the limit nothing bounded it.
 */
export const PUSHED_AUTHORIZATION_REQUESTS_PER_MINUTE = 60;

type LimitDeps = Pick<AddressRateLimitDeps, 'store' | 'trustProxy' | 'log'>;

/** AUTHORIZE_REQUESTS_PER_MINUTE (`requestsPerMinute`; 0 turns it off), counted per address. */
export function createAuthorizeRateLimit(deps: LimitDeps & { requestsPerMinute: number }): AddressRateLimit {
  return createAddressRateLimit({
    ...deps, name: 'authorize', requests: 'authorization requests', limitName: 'AUTHORIZE_REQUESTS_PER_MINUTE',
    otherwise: 'raise AUTHORIZE_REQUESTS_PER_MINUTE; 0 turns the limit off',
    // The provider answers from the database, as before the limit existed.
    whenStoreFails: 'allow',
  });
}

/**
 * PUSHED_AUTHORIZATION_REQUESTS_PER_MINUTE per address; off (`enabled` false) where
 * AUTHORIZE_REQUESTS_PER_MINUTE is 0, which turns every per-address limit on sign-in requests off.
 */
export function createPushedAuthorizationRateLimit(deps: LimitDeps & { enabled: boolean }): AddressRateLimit {
  return createAddressRateLimit({
    ...deps, requestsPerMinute: deps.enabled ? PUSHED_AUTHORIZATION_REQUESTS_PER_MINUTE : 0,
    name: 'par', requests: 'pushed authorization requests', limitName: `its limit (${PUSHED_AUTHORIZATION_REQUESTS_PER_MINUTE} a minute)`,
    otherwise: 'set AUTHORIZE_REQUESTS_PER_MINUTE=0, which turns the per-address limits off',
    // The provider keeps pushed requests in the database, not in the ephemeral store.
    whenStoreFails: 'allow',
  });
}
