import { type Check, type CheckResult, combine, fail, ok, skip, warn } from '../check.ts';
import type { DoctorContext } from '../context.ts';
import { argsOf, inherited, isProtected, matchLocation, proxiesTo, servers, where, type Location } from '../nginx-config.ts';

// With --reverse-proxy the proxy reads the page a visitor asked for from X-Forwarded-Uri, and
// /oauth2/auth answers 202 without a session for a --skip-auth-route path (as oauth2-proxy does).
// nginx passes a visitor's own headers on to the auth check unless the location sets that one: a
// location without `proxy_set_header X-Forwarded-Uri $request_uri;` lets anyone name a public
// path in the header and read every protected file. The same for X-Forwarded-Method and a
// METHOD= skip-auth route: auth_request always asks with GET, so without the header a GET= route
// admits every method, and the visitor's own header names whatever method suits them.
export const nginxForwardedUri: Check = {
  id: 'nginx-forwarded-uri',
  title: 'The auth check learns the page and the method from nginx, never from the visitor',
  run(ctx) {
    if (!ctx.nginx) return skip('no nginx configuration given (--nginx-config FILE, or nginx -T | latchkey doctor --nginx-t)');
    const authLocations = new Map<Location, Location>();
    for (const server of servers(ctx.nginx))
      for (const location of server.locations.filter(isProtected)) {
        const uri = argsOf(location.directive.block, 'auth_request')[0]?.[0];
        const target = uri ? matchLocation(server, uri) : null;
        if (target && proxiesTo(target)) authLocations.set(target, location);
      }
    if (!authLocations.size) return skip('no auth_request location proxies to the proxy (the Lua engine asks it from access_by_lua_block)');
    const name = (l: Location) => `location ${l.modifier ? `${l.modifier} ` : ''}${l.path} (${where(l.directive)})`;
    const lacking = (header: string) => [...authLocations.keys()]
      .filter((l) => !inherited(l, 'proxy_set_header').args.some((a) => a[0]?.toLowerCase() === header)).map(name);
    const proxy = ctx.proxy?.config;
    return combine([uriResult(lacking('x-forwarded-uri'), proxy), methodResult(lacking('x-forwarded-method'), proxy)],
      `${authLocations.size} auth location(s), all set X-Forwarded-Uri and X-Forwarded-Method`);
  },
};

type ProxyOptions = NonNullable<DoctorContext['proxy']>['config'] | undefined;

function uriResult(open: string[], proxy: ProxyOptions): CheckResult {
  if (!open.length) return ok('');
  const text = `${open.join(', ')} sets no X-Forwarded-Uri: the visitor's own header reaches the auth check`;
  const fix = 'add to each of them: proxy_set_header X-Forwarded-Uri $request_uri; (latchkey generate nginx does)';
  if (!proxy) return warn(`${text}; with --reverse-proxy and a --skip-auth-route that is an open door (the proxy's options are not given, so this could not be told)`, fix);
  if (proxy.reverseProxy && proxy.skipAuthRoutes.length)
    return fail(`${text}, and the proxy (--reverse-proxy, ${proxy.skipAuthRoutes.length} --skip-auth-route) answers 202 to a public path named there: anyone can read the protected pages`, fix);
  return warn(`${text}; harmless while the proxy has no --skip-auth-route, but the return address after sign-in may be the visitor's choice of path`, fix);
}

function methodResult(open: string[], proxy: ProxyOptions): CheckResult {
  const byMethod = proxy?.skipAuthRoutes.filter((route) => route.method !== null).length ?? 0;
  // harmless while the proxy has no METHOD= route: nothing it decides depends on the method
  if (!open.length || (proxy && !byMethod)) return ok('');
  const text = `${open.join(', ')} sets no X-Forwarded-Method: the proxy matches METHOD= skip-auth routes against auth_request's own GET, or against a method the visitor names`;
  const fix = 'add to each of them: proxy_set_header X-Forwarded-Method $request_method; (latchkey generate nginx does)';
  if (!proxy) return warn(`${text} (the proxy's options are not given, so whether it has such routes could not be told)`, fix);
  return fail(`${text}: of the proxy's ${byMethod} METHOD= --skip-auth-route(s), a GET= one admits every method`, fix);
}
