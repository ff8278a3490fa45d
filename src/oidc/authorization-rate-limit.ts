// How many authorization requests one address may send a minute. Anyone may send them: the
// client_id and its redirect_uri are in every sign-in redirect. Each one that needs a sign-in makes
// oidc-provider keep an Interaction row for TTL_SECONDS.Interaction (30 minutes); nothing else
// bounds how many. The counter lives in the ephemeral store (the database, or Redis), as the
// recovery-code limits' do (identity/recovery-limits.ts), so every instance counts together; it is
// a fixed window that starts with the address's first request. Every request to the endpoint
// counts, one answered from an existing sign-in (prompt=none, a provider session) too: telling them
// apart would cost the provider's own work, and a browser that signs in makes one or two.
// An IPv6 client is counted twice: by its /64 (the per-address limit) and by its /48, which may send
// ADDRESS_BLOCK_MULTIPLIER times as many (core/net.ts addressBlockKey says why).
import { addressBlockKey, addressInList, addressLimitKey, parseAddressList } from '../core/net.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';

export const AUTHORIZE_WINDOW_SECONDS = 60;

/**
 * How many times the per-address limit one IPv6 /48 may send in all. At the default 60, a /48 may
 * send 240 a minute, from any number of its /64s: it holds at most some 8,400 pending sign-ins
 * (~75 MB) where without this count it could hold 65,536 times a /64's 2,100. A /48 is one site or
 * customer, or at most 256 customers of a provider that hands out /56s; 240 a minute is far above
 * what the people of a small site send from one, and only that /48 is refused.
 */
export const ADDRESS_BLOCK_MULTIPLIER = 4;

// Where a reverse proxy in front of latchkey usually connects from: loopback, the private ranges
// (RFC 1918, RFC 4193), link-local, and the shared address space of carrier NAT and of overlay
// networks such as Tailscale (RFC 6598).
const PROXY_LIKE_PEERS = parseAddressList(['127.0.0.0/8', '::1', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', 'fc00::/7', 'fe80::/10']).list;

export interface AuthorizeRateLimitDeps {
  store: EphemeralStore;
  /** AUTHORIZE_REQUESTS_PER_MINUTE; 0 turns the limit off. */
  requestsPerMinute: number;
  /** Whether TRUST_PROXY names a proxy whose X-Forwarded-For gives the client's address. */
  trustProxy: boolean;
  log: { warn(details: object, message: string): void };
}

export interface AuthorizeRateLimit {
  /**
   * Counts one authorization request from `ip` (the client's address, as TRUST_PROXY allows),
   * which arrived over a connection from `peer`. Refused: the request must not reach the provider.
   */
  count(ip: string, peer: string | undefined): Promise<{ refused: boolean; retryAfterSeconds: number }>;
}

export function createAuthorizeRateLimit(deps: AuthorizeRateLimitDeps): AuthorizeRateLimit {
  const limit = deps.requestsPerMinute;
  const blockLimit = limit * ADDRESS_BLOCK_MULTIPLIER;
  let warnedAboutProxy = false;
  let storeFailing = false;
  const allowed = { refused: false, retryAfterSeconds: 0 };
  const refused = { refused: true, retryAfterSeconds: AUTHORIZE_WINDOW_SECONDS };

  return {
    async count(ip, peer) {
      if (limit === 0) return allowed;
      const address = addressLimitKey(ip);
      const block = addressBlockKey(ip);
      let count: number;
      let blockCount = 0;
      try {
        count = await deps.store.increment(`authorize:ip:${address}`, AUTHORIZE_WINDOW_SECONDS);
        // a request its /64 already may not send stores nothing, so it does not count against the /48
        if (block !== null && count <= limit) blockCount = await deps.store.increment(`authorize:net:${block}`, AUTHORIZE_WINDOW_SECONDS);
        storeFailing = false;
      } catch (error) {
        // A limit that cannot count lets requests through: the provider answers them from the
        // database, as before the limit existed, so a Redis outage does not stop every app's
        // sign-in (a Redis that stops answering still costs each request its command timeout,
        // redis-store.ts). Said once per outage; connectRedis logs the outage itself too.
        if (!storeFailing) deps.log.warn({ err: error }, 'authorization requests are not counted per address while the ephemeral store does not answer');
        storeFailing = true;
        return allowed;
      }
      if (count <= limit) {
        if (blockCount <= blockLimit) return allowed;
        // Once per /48 and window, as for an address below.
        if (blockCount === blockLimit + 1) deps.log.warn({ event: 'authorize_rate_limited_block', block, limit: blockLimit }, `the /64s of one IPv6 /48 sent more authorization requests together than ${ADDRESS_BLOCK_MULTIPLIER} × AUTHORIZE_REQUESTS_PER_MINUTE allows; the rest of its minute is refused`);
        return refused;
      }
      // Once per address and window: the first refusal, not the thousands after it.
      if (count === limit + 1) deps.log.warn({ event: 'authorize_rate_limited', address, limit }, 'an address sent more authorization requests than AUTHORIZE_REQUESTS_PER_MINUTE allows; the rest of its minute is refused');
      // Behind a reverse proxy that TRUST_PROXY does not name, every visitor seems to come from
      // the proxy's address, so they all share one count and the limit refuses everyone at once.
      if (!deps.trustProxy && !warnedAboutProxy && addressInList(PROXY_LIKE_PEERS, peer)) {
        warnedAboutProxy = true;
        deps.log.warn({ event: 'authorize_rate_limited_proxy', peer, limit },
          `authorization requests from ${peer}, a private or loopback address, passed the per-address limit while TRUST_PROXY is not set: if latchkey is behind a reverse proxy, every visitor is counted as that proxy. Set TRUST_PROXY to the proxy's address so each is counted by their own (or raise AUTHORIZE_REQUESTS_PER_MINUTE; 0 turns the limit off)`);
      }
      return refused;
    },
  };
}
