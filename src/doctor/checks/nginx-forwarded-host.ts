import { type Check, type CheckResult, combine, ok, skip, warn } from '../check.ts';
import type { DoctorContext } from '../context.ts';
import { hostOnPort } from '../../deploy/nginx-parts.ts';
import { argsOf, httpsPortOf, inherited, isProtected, matchLocation, proxiesTo, servers, where, type Location } from '../nginx-config.ts';

// The proxy takes the host visitors use from the Host header nginx sends it (X-Forwarded-Host
// first, with --reverse-proxy: request-origin.ts). It checks return addresses against that host,
// port included (an rd or X-Auth-Request-Redirect of https://site:8443/… on host "site" is
// refused, and visitors land on "/" after sign-in), and without --redirect-url builds its own
// callback from it. The guide's `proxy_set_header Host $host;` drops the port: harmless on 443,
// wrong on a site served on any other. With no Host line at all nginx sends the upstream's name.
export const nginxForwardedHost: Check = {
  id: 'nginx-forwarded-host',
  title: 'The proxy is told the host and port visitors use',
  run(ctx) {
    if (!ctx.nginx) return skip('no nginx configuration given (--nginx-config FILE, or nginx -T | latchkey doctor --nginx-t)');
    const locations = proxyLocations(ctx);
    if (!locations.length) return skip('no location proxies to the proxy (its prefix, or what auth_request or error_page 401 asks)');
    const results = locations.map((location) => checkLocation(ctx, location));
    return combine(results, results.map((r) => r.detail).join('; '));
  },
};

const name = (l: Location) => `location ${l.modifier ? `${l.modifier} ` : ''}${l.path} (${where(l.directive)})`;

/** Locations that proxy to the proxy: under its prefix, asking a path under it, or what auth_request and error_page 401 go to. */
function proxyLocations(ctx: DoctorContext): Location[] {
  const prefix = `${ctx.proxy?.config?.proxyPrefix ?? '/oauth2'}/`;
  const found = new Set<Location>();
  for (const server of servers(ctx.nginx!)) {
    for (const location of server.locations) {
      const target = proxiesTo(location);
      if (!target) continue;
      const path = URL.canParse(target) ? new URL(target).pathname : '';
      if (location.path.startsWith(prefix) || path.startsWith(prefix)) found.add(location);
    }
    for (const location of server.locations.filter(isProtected)) {
      const asked = [argsOf(location.directive.block, 'auth_request')[0]?.[0], ...inherited(location, 'error_page').args.filter((a) => a.slice(0, -1).includes('401')).map((a) => a[a.length - 1])];
      for (const uri of asked) {
        const target = uri?.startsWith('/') ? matchLocation(server, uri) : null;
        if (target && proxiesTo(target)) found.add(target);
      }
    }
  }
  return [...found];
}

/** A header value that carries the port visitors use: the browser's own Host, or a host with that port. */
const keepsPort = (value: string, port: number): boolean =>
  value === '$http_host' || value.endsWith(`:${port}`) || value.endsWith(':$server_port');

function checkLocation(ctx: DoctorContext, location: Location): CheckResult {
  const port = httpsPortOf(location.server);
  if (port === null) return ok(`${name(location)}: the https port of its server could not be read (no one listen … ssl), so the Host it sends was not checked`);
  if (port === 443) return ok(`${name(location)}: on 443, where the host needs no port`);
  const headers = inherited(location, 'proxy_set_header').args;
  const valueOf = (header: string) => headers.find((a) => a[0]?.toLowerCase() === header)?.[1];
  const proxy = ctx.proxy?.config;
  const wrong: string[] = [];
  const fixes: string[] = [];
  const host = valueOf('host');
  const forwarded = valueOf('x-forwarded-host');
  // X-Forwarded-Host is believed before Host, but only with --reverse-proxy (unknown without the proxy's options)
  const readsForwarded = !proxy || proxy.reverseProxy;
  const hostUnread = proxy?.reverseProxy && forwarded !== undefined && keepsPort(forwarded, port);
  if (!hostUnread && (host === undefined || !keepsPort(host, port))) {
    wrong.push(host === undefined ? 'sets no Host (nginx then sends the upstream\'s name)' : `sends Host ${host}, without :${port}`);
    fixes.push(`proxy_set_header Host ${hostOnPort(port)};`);
  }
  if (forwarded !== undefined && !keepsPort(forwarded, port) && readsForwarded) {
    wrong.push(`sends X-Forwarded-Host ${forwarded}, without :${port}${proxy ? ', which the proxy (--reverse-proxy) reads before Host' : ''}`);
    fixes.push(`proxy_set_header X-Forwarded-Host ${hostOnPort(port)};`);
  }
  if (!wrong.length) return ok(`${name(location)}: the host with :${port}`);
  // without --redirect-url the callback is built from the same host (sign-in.ts callbackUrl)
  const redirectUrl = proxy ? proxy.redirectUrl : undefined;
  // a path-only --redirect-url (/oauth2/callback, as oauth2-proxy allows) takes its host from the request too
  const callback = redirectUrl === undefined ? `; unless the proxy has a --redirect-url with its host, it builds its sign-in callback without :${port} too`
    : redirectUrl === null || redirectUrl.startsWith('/') ? `; with ${redirectUrl === null ? 'no --redirect-url' : `--redirect-url ${redirectUrl} (a path only)`} it builds its sign-in callback without :${port} too, which the provider does not know and the browser cannot reach` : '';
  return warn(`${name(location)} on port ${port} ${wrong.join(' and ')}: the proxy refuses return addresses on https://HOST:${port}/ (visitors land on "/" after sign-in)${callback}`,
    `in ${name(location)}: ${fixes.join(' ')} (as latchkey generate nginx writes it)`);
}
