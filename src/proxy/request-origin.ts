// Where the browser really sent a request: scheme, host and URI. X-Forwarded-Proto/Host/Uri are
// believed only with --reverse-proxy AND from a trusted peer (empty list = loopback only), so a
// client that reaches the proxy directly cannot pick the host that redirects are checked against.
// A peer over the proxy's unix socket (peer.ts) is a local process: trusted exactly when a
// loopback address (127.0.0.1 or ::1) would be.
//
// oauth2-proxy trusts every peer when --trusted-proxy-ip is unset; here a proxy in front that is
// not on loopback (a Docker bridge, a Kubernetes ingress) has its headers ignored, so each such
// peer that sends them is named once in a warning with the flag to set (untrustedPeerNotice).
import type { IncomingHttpHeaders } from 'node:http';
import { type Clock, systemClock } from '../core/clock.ts';
import { addressInList, LOOPBACK_RANGES, parseAddressList } from '../core/net.ts';
import type { ProxyConfig } from './config.ts';
import type { ProxyLogger } from './proxy-runtime.ts';

export interface RequestFacts {
  remoteAddress: string | undefined;
  /** Came in over the proxy's unix socket (peer.ts); remoteAddress is then undefined. */
  viaUnixSocket?: boolean;
  headers: IncomingHttpHeaders;
  /** The request target as received (path and query). */
  url: string;
}

export interface RequestOrigin {
  scheme: 'http' | 'https';
  /** host[:port], lower-case. */
  host: string;
  /** Path and query the browser asked for. */
  uri: string;
  /** Whether forwarded headers were believed for this request. */
  proxied: boolean;
}

// X-Forwarded-Host and -Proto may list several proxies' values; the first is the browser's.
const first = (value: string | string[] | undefined): string | undefined => {
  const text = Array.isArray(value) ? value[0] : value;
  const item = text?.split(',')[0].trim();
  return item || undefined;
};

// X-Forwarded-Uri is one request target, and a comma is an ordinary character in one: cut at the
// first comma, `/public/a,/../../private/x` read as `/public/a` (a --skip-auth-route's path) while
// nginx served /private/x. Taken whole, its dot segments keep it from ever matching a skip route.
const whole = (value: string | string[] | undefined): string | undefined =>
  (Array.isArray(value) ? value[0] : value)?.trim() || undefined;

// A Host header value: name or [v6] with an optional port, nothing else.
const HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

/** `logger`: told once per untrusted peer that sends forwarded headers (with --reverse-proxy). */
export function createOriginReader(config: Pick<ProxyConfig, 'reverseProxy' | 'trustedProxyIps'>, logger?: Pick<ProxyLogger, 'warn'>, clock: Clock = systemClock): (request: RequestFacts) => RequestOrigin {
  const { list } = parseAddressList(config.trustedProxyIps.length > 0 ? config.trustedProxyIps : LOOPBACK_RANGES);
  const localProcessTrusted = addressInList(list, '127.0.0.1') || addressInList(list, '::1');
  const noteUntrusted = config.reverseProxy && logger ? untrustedPeerNotice(logger, config.trustedProxyIps.length > 0, clock) : null;
  return (request) => {
    const trustedPeer = request.viaUnixSocket ? localProcessTrusted : addressInList(list, request.remoteAddress);
    const proxied = config.reverseProxy && trustedPeer;
    if (!proxied && noteUntrusted !== null) noteUntrusted(request);
    const rawHost = ((proxied ? first(request.headers['x-forwarded-host']) : undefined) ?? first(request.headers.host) ?? '').toLowerCase();
    const host = HOST.test(rawHost) ? rawHost : '';
    const proto = proxied ? first(request.headers['x-forwarded-proto'])?.toLowerCase() : undefined;
    const forwardedUri = proxied ? whole(request.headers['x-forwarded-uri']) : undefined;
    return { scheme: proto === 'https' ? 'https' : 'http', host, uri: forwardedUri ?? request.url, proxied };
  };
}

/** How many untrusted peers are named at most; past that, one line says so and the notice rests. */
export const UNTRUSTED_PEERS_REPORTED = 32;
const QUIET_AFTER_MANY_MS = 3_600_000;
const FORWARDED_HEADERS = ['x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-for', 'x-forwarded-uri'] as const;

/**
 * Warns once per peer address that sends X-Forwarded-Proto/Host/For/Uri without being trusted:
 * otherwise the proxy silently works out the wrong scheme and host (an http callback behind TLS,
 * redirects refused). Remembers at most UNTRUSTED_PEERS_REPORTED addresses, then says so and is
 * quiet for QUIET_AFTER_MANY_MS, after which it starts afresh: visitors who make up the headers
 * from many addresses can hush it for an hour, never for good.
 */
function untrustedPeerNotice(logger: Pick<ProxyLogger, 'warn'>, listSet: boolean, clock: Clock): (request: RequestFacts) => void {
  const reported = new Set<string>();
  let quietUntilMs = 0;
  return (request) => {
    if (quietUntilMs !== 0) {
      if (clock.nowMs() < quietUntilMs) return;
      quietUntilMs = 0;
    }
    const peer = request.viaUnixSocket ? 'unix socket' : request.remoteAddress ?? 'unknown';
    if (reported.has(peer)) return;
    // no array for the many requests that carry none of them
    if (!FORWARDED_HEADERS.some((name) => request.headers[name] !== undefined)) return;
    const headers = FORWARDED_HEADERS.filter((name) => request.headers[name] !== undefined);
    reported.add(peer);
    // what to trust: the address as written in --trusted-proxy-ip (an IPv4 peer is seen as ::ffff:a.b.c.d on a dual-stack socket)
    const address = request.viaUnixSocket ? '127.0.0.1' : peer.startsWith('::ffff:') && peer.includes('.') ? peer.slice(7) : peer;
    const trust = listSet ? `add ${address} (or its network's range) to --trusted-proxy-ip` : `set --trusted-proxy-ip=${address} (or its network's range)`;
    logger.warn({ event: 'forwarded_headers_untrusted', peer, headers },
      `${headers.join(', ')} from ${peer} ignored: --reverse-proxy believes them only from --trusted-proxy-ip peers${listSet ? '' : ' (unset: loopback only)'}. If ${peer} is your reverse proxy, ${trust}; OAUTH2_PROXY_TRUSTED_PROXY_IPS in the environment`);
    if (reported.size >= UNTRUSTED_PEERS_REPORTED) {
      quietUntilMs = clock.nowMs() + QUIET_AFTER_MANY_MS;
      logger.warn({ event: 'forwarded_headers_untrusted_stopped', peers: reported.size }, `${reported.size} untrusted peers sent forwarded headers; further ones are not reported for an hour`);
      reported.clear();
    }
  };
}
