// Where the browser really sent a request: scheme, host and URI. X-Forwarded-Proto/Host/Uri are
// believed only with --reverse-proxy AND from a trusted peer (empty list = loopback only), so a
// client that reaches the proxy directly cannot pick the host that redirects are checked against.
// A peer over the proxy's unix socket (peer.ts) is a local process: trusted exactly when a
// loopback address (127.0.0.1 or ::1) would be.
import type { IncomingHttpHeaders } from 'node:http';
import { addressInList, LOOPBACK_RANGES, parseAddressList } from '../core/net.ts';
import type { ProxyConfig } from './config.ts';

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

export function createOriginReader(config: Pick<ProxyConfig, 'reverseProxy' | 'trustedProxyIps'>): (request: RequestFacts) => RequestOrigin {
  const { list } = parseAddressList(config.trustedProxyIps.length > 0 ? config.trustedProxyIps : LOOPBACK_RANGES);
  const localProcessTrusted = addressInList(list, '127.0.0.1') || addressInList(list, '::1');
  return (request) => {
    const trustedPeer = request.viaUnixSocket ? localProcessTrusted : addressInList(list, request.remoteAddress);
    const proxied = config.reverseProxy && trustedPeer;
    const rawHost = ((proxied ? first(request.headers['x-forwarded-host']) : undefined) ?? first(request.headers.host) ?? '').toLowerCase();
    const host = HOST.test(rawHost) ? rawHost : '';
    const proto = proxied ? first(request.headers['x-forwarded-proto'])?.toLowerCase() : undefined;
    const forwardedUri = proxied ? whole(request.headers['x-forwarded-uri']) : undefined;
    return { scheme: proto === 'https' ? 'https' : 'http', host, uri: forwardedUri ?? request.url, proxied };
  };
}
