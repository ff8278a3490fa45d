import { type Check, type CheckResult, combine, fail, ok, skip, warn } from '../check.ts';
import type { DoctorContext } from '../context.ts';
import { argsOf, inherited, type NginxConfig, proxiesTo, servers, where, type Directive, type Location } from '../nginx-config.ts';

// Auth-decision caches that `latchkey generate nginx --auth-cache` wrote before it learnt better,
// and that keep working, wrongly, until the file is generated again:
//
// - proxy_cache with `proxy_ignore_headers … X-Accel-Expires`: the proxy marks a 202 that only a
//   --skip-auth-route earned (a preflight OPTIONS, a public corner of a protected prefix) with
//   X-Accel-Expires: 0, and such a cache keeps it anyway, for the credentials that came with it.
//   Any made-up cookie that passed a skip route then opens every protected path for the cache time.
// - the Lua engine's module that asks through ngx.location.capture: lua-nginx-module refuses it in
//   HTTP/2 requests, so behind `listen … http2` every browser gets a 500 (curl and wrk, speaking
//   HTTP/1.1, pass); its oldest form also cached a skip route's pass, as above.
//

type ProxyOptions = NonNullable<DoctorContext['proxy']>['config'] | undefined;

const nameOf = (l: Location) => `location ${l.modifier ? `${l.modifier} ` : ''}${l.path} (${where(l.directive)})`;
const REGENERATE = 'generate the file again with the same flags (latchkey generate nginx … --auth-cache …) and reload nginx';

export const nginxAuthCache: Check = {
  id: 'nginx-auth-cache',
  title: 'An auth-decision cache keeps only what the credentials earned, and works under HTTP/2',
  run(ctx) {
    if (!ctx.nginx) return skip('no nginx configuration given (--nginx-config FILE, or nginx -T | latchkey doctor --nginx-t)');
    return staleAuthCaches(ctx.nginx, ctx.proxy?.config);
  },
};

/** The auth-cache findings of a configuration: ok when there is none, or none generated before the fixes. */
function staleAuthCaches(config: NginxConfig, proxy: ProxyOptions): CheckResult {
  return combine([skipRoutePassesCached(config, proxy), ...luaModules(config, proxy)], 'no auth-decision cache of an earlier generate nginx');
}

/** proxy_cache locations that ask /oauth2/auth and ignore the proxy's X-Accel-Expires. */
function skipRoutePassesCached(config: NginxConfig, proxy: ProxyOptions): CheckResult {
  const found: string[] = [];
  for (const server of servers(config))
    for (const location of server.locations) {
      const cache = inherited(location, 'proxy_cache').args.at(-1)?.[0];
      if (!cache || cache === 'off' || !/\/oauth2\/auth\b/.test(proxiesTo(location) ?? '')) continue;
      if (inherited(location, 'proxy_ignore_headers').args.flat().some((h) => h.toLowerCase() === 'x-accel-expires')) found.push(nameOf(location));
    }
  if (!found.length) return ok('');
  const text = `${found.join(', ')} caches the proxy's 202 (proxy_cache) but ignores its X-Accel-Expires (proxy_ignore_headers), as files from an earlier latchkey generate nginx --auth-cache did: the proxy marks a pass that only a --skip-auth-route earned with X-Accel-Expires: 0, and this cache keeps it for the credentials that came with it, so a made-up cookie that passed a skip route (a preflight OPTIONS, a public corner of a protected prefix) opens every protected path for the cache time`;
  const fix = `${REGENERATE}; by hand: proxy_ignore_headers Cache-Control Expires;  (without X-Accel-Expires) in each of them`;
  return verdict(text, fix, proxy);
}

/** Servers that speak HTTP/2 (`listen … http2`, or nginx 1.25's `http2 on;`). */
const speaksHttp2 = (location: Location): boolean =>
  location.server.listens.some((l) => l.split(/\s+/).includes('http2')) ||
  [location.server.directive, ...location.server.parents].some((d) => argsOf(d.block, 'http2')[0]?.[0] === 'on');

/** latchkey's Lua auth cache module (init_by_lua_block …latchkey_auth_cache…) in an older form. */
function luaModules(config: NginxConfig, proxy: ProxyOptions): CheckResult[] {
  const modules: Directive[] = [];
  const walk = (block: Directive[]) => {
    for (const d of block) {
      if (d.name === 'init_by_lua_block' && /package\.loaded\.latchkey_auth_cache\b/.test(d.args[0] ?? '')) modules.push(d);
      if (d.block) walk(d.block);
    }
  };
  walk(config.root);
  const results: CheckResult[] = [];
  for (const module of modules) {
    const lua = (module.args[0] ?? '').replace(/--.*$/gm, '');
    if (!/ngx\.location\.capture\b/.test(lua)) continue;
    const checked = servers(config).flatMap((s) => s.locations).filter((l) => (l.directive.block ?? []).some((d) => d.name === 'access_by_lua_block' && /latchkey_auth_cache/.test(d.args[0] ?? '')));
    const http2 = checked.filter(speaksHttp2).map(nameOf);
    if (http2.length)
      results.push(fail(`the Lua auth cache at ${where(module)} asks the proxy through ngx.location.capture, which lua-nginx-module (0.10.23 on Debian 12, for one) refuses in HTTP/2 requests, and ${http2.join(', ')} ${http2.length === 1 ? 'is' : 'are'} served over HTTP/2: every browser gets a 500 there (HTTP/1.1 clients such as curl pass)`,
        `${REGENERATE}: the check now asks the proxy over a connection of its own`));
    if (!/x-accel-expires/i.test(lua))
      results.push(verdict(`the Lua auth cache at ${where(module)} does not read the proxy's X-Accel-Expires, as the first version of latchkey generate nginx --auth-cache-engine lua did not: it keeps a pass that only a --skip-auth-route earned for the credentials that came with it, so a made-up cookie that passed a skip route opens every protected path for the cache time`, REGENERATE, proxy));
  }
  return results;
}

/** An open door when the proxy is known to have skip routes; a warning to regenerate otherwise. */
function verdict(text: string, fix: string, proxy: ProxyOptions): CheckResult {
  if (!proxy) return warn(`${text} (the proxy's options are not given, so whether it has a --skip-auth-route could not be told)`, fix);
  if (proxy.skipAuthRoutes.length) return fail(`${text}; the proxy has ${proxy.skipAuthRoutes.length} --skip-auth-route(s)`, fix);
  return warn(`${text}; harmless while the proxy has no --skip-auth-route, but the file must be generated again before one is added`, fix);
}
