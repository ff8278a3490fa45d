// Whether a request is on a --skip-auth-route, for the auth endpoint (auth-endpoint.ts), which
// reads the browser's request from X-Forwarded-Uri. The path is read as proxy mode reads it
// (upstream-path.ts): percent-decoded and cut at an encoded "#", as oauth2-proxy matches it. A
// path not in its clean form (dot segments, `//`, a raw "#", backslashes, encoded slashes) matches
// no route: nginx resolves `/public/../private/x` to /private/x before serving it, so the check
// must not see it as public. oauth2-proxy would match it as sent; here it needs a session.
import type { ProxyConfig } from './config.ts';
import { upstreamPathOf } from './upstream-path.ts';

/** `requestTarget` is a path with its query, as sent. */
export function skipsAuth(routes: ProxyConfig['skipAuthRoutes'], method: string | undefined, requestTarget: string): boolean {
  const target = upstreamPathOf(requestTarget);
  return target.kind === 'checked' && matchesSkipRoute(routes, method, target.matchPath);
}

/** `matchPath` as upstreamPathOf gives it for a path in its clean form. */
export const matchesSkipRoute = (routes: ProxyConfig['skipAuthRoutes'], method: string | undefined, matchPath: string): boolean =>
  routes.some((r) => (r.method === null || r.method === method) && r.pathPattern.test(matchPath));
