// How many requests of one kind one address may send a minute, for the endpoints anyone may call
// without signing in whose every call makes latchkey keep something: authorization requests
// (oidc/authorization-rate-limit.ts), pushed authorization requests, passkey sign-in starts
// (webauthn/login-rate-limit.ts). The counter lives in the ephemeral store (the database, or
// Redis), as the recovery-code limits' do (identity/recovery-limits.ts), so every instance counts
// together; it is a fixed window that starts with the address's first request.
// An IPv6 client is counted twice: by its /64 (the per-address limit) and by its /48, which may send
// ADDRESS_BLOCK_MULTIPLIER times as many (addressBlockKey in net.ts says why).
import { addressBlockKey, addressInList, addressLimitKey, parseAddressList } from './net.ts';

export const RATE_LIMIT_WINDOW_SECONDS = 60;

/**
 * How many times the per-address limit one IPv6 /48 may send in all. A /48 is one site or
 * customer, or at most 256 customers of a provider that hands out /56s; four times what one
 * address may send is far above what the people of a small site send from one, and only that
 * /48 is refused. (oidc/authorization-rate-limit.ts works out what it bounds for /authorize.)
 */
export const ADDRESS_BLOCK_MULTIPLIER = 4;

// Where a reverse proxy in front of latchkey usually connects from: loopback, the private ranges
// (RFC 1918, RFC 4193), link-local, and the shared address space of carrier NAT and of overlay
// networks such as Tailscale (RFC 6598).
const PROXY_LIKE_PEERS = parseAddressList(['127.0.0.0/8', '::1', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', 'fc00::/7', 'fe80::/10']).list;

/** The ephemeral store's counter (storage/ephemeral-store.ts), all a limit needs of it. */
export interface RateLimitCounter {
  increment(key: string, ttlSeconds: number): Promise<number>;
}

export interface AddressRateLimitDeps {
  store: RateLimitCounter;
  /** How many requests one address may send a minute; 0 turns the limit off. */
  requestsPerMinute: number;
  /** Whether TRUST_PROXY names a proxy whose X-Forwarded-For gives the client's address. */
  trustProxy: boolean;
  log: { warn(details: object, message: string): void };
  /** Names the counters (`<name>:ip:…`, `<name>:net:…`) and the log events (`<name>_rate_limited` …). */
  name: string;
  /** The requests counted, as the log calls them: "authorization requests". */
  requests: string;
  /** The limit, as the log names it: "AUTHORIZE_REQUESTS_PER_MINUTE". */
  limitName: string;
  /** What an operator behind an unnamed proxy may do besides setting TRUST_PROXY: "raise … ; 0 turns the limit off". */
  otherwise: string;
  /**
   * When the store does not answer: 'allow' lets the request through uncounted (an endpoint that
   * works without the store, so an outage does not stop it), saying so once per outage; 'fail'
   * throws the store's own error, for an endpoint that needs the store anyway and would fail on
   * it a moment later (its outage is then logged where the store logs it, and only there).
   */
  whenStoreFails: 'allow' | 'fail';
}

export interface AddressRateLimit {
  /**
   * Counts one request from `ip` (the client's address, as TRUST_PROXY allows: fastify's
   * request.ip, never a raw X-Forwarded-For), which arrived over a connection from `peer`.
   * Refused: the request must not be served, nor store anything.
   */
  count(ip: string, peer: string | undefined): Promise<{ refused: boolean; retryAfterSeconds: number }>;
}

export function createAddressRateLimit(deps: AddressRateLimitDeps): AddressRateLimit {
  const { name, requests, limitName } = deps;
  const limit = deps.requestsPerMinute;
  const blockLimit = limit * ADDRESS_BLOCK_MULTIPLIER;
  let warnedAboutProxy = false;
  let storeFailing = false;
  const allowed = { refused: false, retryAfterSeconds: 0 };
  // Retry-After is the whole window: the longest the wait can be.
  const refused = { refused: true, retryAfterSeconds: RATE_LIMIT_WINDOW_SECONDS };

  return {
    async count(ip, peer) {
      if (limit === 0) return allowed;
      const address = addressLimitKey(ip);
      const block = addressBlockKey(ip);
      let count: number;
      let blockCount = 0;
      try {
        count = await deps.store.increment(`${name}:ip:${address}`, RATE_LIMIT_WINDOW_SECONDS);
        // a request its /64 already may not send stores nothing, so it does not count against the /48
        if (block !== null && count <= limit) blockCount = await deps.store.increment(`${name}:net:${block}`, RATE_LIMIT_WINDOW_SECONDS);
        storeFailing = false;
      } catch (error) {
        if (deps.whenStoreFails === 'fail') throw error;
        // A limit that cannot count lets requests through: the endpoint answers them as before the
        // limit existed, so a Redis outage does not stop every app's sign-in (a Redis that stops
        // answering still costs each request its command timeout, redis-store.ts). Said once per
        // outage; connectRedis logs the outage itself too.
        if (!storeFailing) deps.log.warn({ err: error }, `${requests} are not counted per address while the ephemeral store does not answer`);
        storeFailing = true;
        return allowed;
      }
      if (count <= limit) {
        if (blockCount <= blockLimit) return allowed;
        // Once per /48 and window, as for an address below.
        if (blockCount === blockLimit + 1) deps.log.warn({ event: `${name}_rate_limited_block`, block, limit: blockLimit }, `the /64s of one IPv6 /48 sent more ${requests} together than ${ADDRESS_BLOCK_MULTIPLIER} × ${limitName} allows; the rest of its minute is refused`);
        return refused;
      }
      // Once per address and window: the first refusal, not the thousands after it.
      if (count === limit + 1) deps.log.warn({ event: `${name}_rate_limited`, address, limit }, `an address sent more ${requests} than ${limitName} allows; the rest of its minute is refused`);
      // Behind a reverse proxy that TRUST_PROXY does not name, every visitor seems to come from
      // the proxy's address, so they all share one count and the limit refuses everyone at once.
      if (!deps.trustProxy && !warnedAboutProxy && addressInList(PROXY_LIKE_PEERS, peer)) {
        warnedAboutProxy = true;
        deps.log.warn({ event: `${name}_rate_limited_proxy`, peer, limit },
          `${requests} from ${peer}, a private or loopback address, passed the per-address limit while TRUST_PROXY is not set: if latchkey is behind a reverse proxy, every visitor is counted as that proxy. Set TRUST_PROXY to the proxy's address so each is counted by their own (or ${deps.otherwise})`);
      }
      return refused;
    },
  };
}
