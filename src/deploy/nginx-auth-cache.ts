import { authCheckHeaders, indent } from './nginx-parts.ts';
import { LUA_POOL, luaAuthCacheSource, luaCheckCall, type LuaCacheSettings } from './nginx-lua-auth-cache.ts';
import { hostAndPort, type DeploymentPlan, type ProtectedPrefix } from './plan.ts';

// The auth-decision cache of `latchkey generate nginx --auth-cache N` (docs/reverse-proxies.md).
// nginx remembers the proxy's "allowed" (202) for exactly the credentials the browser sent, so
// most protected requests are answered without asking the proxy. Two engines keep it:
//
// - proxy_cache (the default; stock nginx): the auth subrequest still runs on every request, and
//   a hit reads a small cache file instead of asking the proxy.
// - lua (--auth-cache-engine lua; Debian's libnginx-mod-http-lua): a Lua shared dict consulted in
//   the protected location's access phase, so a hit costs neither a subrequest nor a file.
//
// What both key on, and why: the whole Cookie header ($http_cookie: nginx joins several Cookie
// lines and HTTP/2 cookie crumbs with "; ", as the proxy does), the Authorization header, the host
// and the rule (prefix and groups). That is everything the proxy decides from but a
// --skip-auth-route (the page asked for), so a cached "yes" is only reused for exactly the
// credentials it was given for: a pass that only a skip route earned is marked by the proxy
// (X-Accel-Expires: 0) and never stored. It is finer than the session
// cookie alone (an unrelated cookie that changes costs one more question to the proxy), and
// cheaper: nginx reads one header instead of scanning the Cookie header once per `$cookie_NAME`
// of the split session parts. (The Lua engine stores an HMAC of that key: nginx-lua-auth-cache.ts
// says why.) It assumes the proxy decides by credentials and rule only, which
// latchkey proxy does; one that trusts client addresses (oauth2-proxy's --trusted-ip) must not be
// put behind this cache. Only a 202 without Set-Cookie and without that mark is stored: 401 and
// 403 reach the proxy again (signing in takes effect at once), and a refreshed session's new
// cookie is never replayed.

/** Whether the cache files are in memory: under /run, a tmpfs on every systemd machine. */
const inMemory = (plan: DeploymentPlan): boolean => /^\/(?:var\/)?run\//.test(plan.authCachePath);

/**
 * Cache files whose descriptors each nginx worker keeps open: one per browser and rule in use.
 * Far above a few friends' sessions, far below the 1,024 descriptors a worker has by default.
 */
const OPEN_CACHE_FILES = 256;

/** The lua_shared_dict of the Lua engine and its size; when full, the least recently used entries go. */
export const LUA_DECISIONS_DICT = 'latchkey_auth_decisions';
export const LUA_DECISIONS_DICT_SIZE = '10m';

/**
 * Debian's paths of the two modules the Lua engine needs (libnginx-mod-http-lua and the
 * libnginx-mod-http-ndk it depends on). A server installed from the package loads them through
 * /etc/nginx/modules-enabled/; a configuration of its own (tests, the bench) loads them itself.
 */
export const DEBIAN_LUA_MODULES = ['/usr/lib/nginx/modules/ndk_http_module.so', '/usr/lib/nginx/modules/ngx_http_lua_module.so'];

/** `load_module` lines for an nginx.conf that does not include Debian's modules-enabled. */
export const luaLoadModuleLines = (): string[] => DEBIAN_LUA_MODULES.map((path) => `load_module ${path};`);

/** The internal location that asks the proxy about rule `index` (1-based, in plan order); not with the Lua engine. */
export const authCheckUri = (index: number): string => `/_latchkey/auth/${index}`;

/** What the auth check of a rule asks the proxy: /oauth2/auth, with the rule's groups as ?allowed_groups=. */
export const proxyAuthPath = (rule: ProtectedPrefix): string =>
  `/oauth2/auth${rule.allowedGroups.length ? `?allowed_groups=${rule.allowedGroups.map(encodeURIComponent).join(',')}` : ''}`;

/** Which engine this plan's cache uses; null without --auth-cache. */
export function authCacheEngineOf(plan: DeploymentPlan): DeploymentPlan['authCacheEngine'] | null {
  return plan.authCacheSeconds > 0 ? plan.authCacheEngine : null;
}

/**
 * What a rule asks the proxy, as text for cache keys: its prefix and groups, in the spelling of
 * --protect. Not its position in the file: proxy_cache files outlive a reload and a restart, and
 * after an edit the same position may hold a rule with other groups.
 */
export function ruleCacheKey(rule: ProtectedPrefix): string {
  const text = rule.allowedGroups.length ? `${rule.prefix}=${rule.allowedGroups.join(',')}` : rule.prefix;
  // --protect admits only these characters; anything else could break out of the quoted key
  if (!/^[A-Za-z0-9._~@+\-/=,]+$/.test(text)) throw new Error(`rule ${JSON.stringify(text)} has characters the cache key cannot carry`);
  return text;
}

function ruleAt(plan: DeploymentPlan, index: number): ProtectedPrefix {
  const rule = plan.protectedPrefixes[index - 1];
  if (!rule) throw new Error(`the plan has no protected prefix number ${index}`);
  return rule;
}

const revocationDelayLines = (plan: DeploymentPlan, slack: string | null): string[] => [
  `# REVOCATION DELAY: a user who is removed, loses a group or signs out elsewhere keeps access to`,
  `# protected pages for up to ${plan.authCacheSeconds} seconds, because nginx does not ask the proxy again.`,
  ...(slack ? [`# ${slack}`] : []),
];

/** http-level lines of the auth-decision cache (none without --auth-cache); the bench uses them too. */
export function authCacheHttpLines(plan: DeploymentPlan): string[] {
  const engine = authCacheEngineOf(plan);
  if (engine === 'lua') return luaHttpLines(plan);
  if (engine !== 'proxy_cache') return [];
  return [
    '',
    `# Auth-decision cache (--auth-cache ${plan.authCacheSeconds}s): nginx remembers "allowed" (202) for exactly the`,
    `# credentials a browser sent (Cookie and Authorization headers) for ${plan.authCacheSeconds} seconds, instead of`,
    '# asking the proxy on every request.',
    ...revocationDelayLines(plan, '(At most one second more: nginx keeps the validity in whole seconds.)'),
    '#',
    "# THE CACHE FILES HOLD EACH VISITOR'S WHOLE Cookie HEADER, THEIR SESSION INCLUDED, in plain text:",
    "# nginx writes an entry's key into its file, and stock nginx cannot hash it. Whoever can read them",
    "# (root, and any program running as nginx's user, www-data on Debian, such as a PHP application on",
    '# this server) can sign in as those visitors for as long as their sessions last (7 days by default),',
    `# not only for ${plan.authCacheSeconds} seconds. nginx creates the folder mode 0700 for its user (one that`,
    '# exists already keeps its mode: chmod 700 it), ' + (inMemory(plan) ? 'here under /run: in memory, which no reboot' : 'here where --auth-cache-path says: keep it'),
    ...(inMemory(plan)
      ? ['# outlives and no backup copies.']
      : ['# out of backups, best on a tmpfs such as /run (the default), which no reboot outlives.']),
    '# The Lua engine (--auth-cache-engine lua, libnginx-mod-http-lua) keeps only an HMAC of the',
    '# key, in memory: prefer it where you can.',
    `proxy_cache_path ${plan.authCachePath} levels=1:2 keys_zone=latchkey_auth:1m max_size=16m inactive=${Math.max(60, plan.authCacheSeconds * 2)}s use_temp_path=off;`,
    '',
    '# A request without any credentials is neither answered from nor stored in the cache: the',
    '# proxy refuses it anyway (401, never stored), and it would otherwise share one key with every',
    '# anonymous visitor.',
    'map "$http_cookie$http_authorization" $latchkey_no_credentials {',
    '    "" 1;',
    '    default 0;',
    '}',
  ];
}

/**
 * The proxy_cache lines inside the auth location of rule `index` (1-based); none without
 * --auth-cache, and none for the Lua engine, which has no auth location (it asks the proxy
 * itself). The bench uses them too.
 */
export function authCacheLines(plan: DeploymentPlan, index: number): string[] {
  if (authCacheEngineOf(plan) !== 'proxy_cache') return [];
  return [
    '',
    `# Cached ${plan.authCacheSeconds}s; see the revocation delay note at the top.`,
    'proxy_cache latchkey_auth;',
    // "\n" between the parts: no header value can hold a line break, so two different pairs of
    // Authorization and Cookie can never spell the same key.
    `proxy_cache_key "$host\\n${ruleCacheKey(ruleAt(plan, index))}\\n$http_authorization\\n$http_cookie";`,
    // only 202: a 401 or 403 must reach the proxy again so that signing in takes effect at once
    `proxy_cache_valid 202 ${plan.authCacheSeconds}s;`,
    // the proxy marks its answers uncacheable for other caches; this one is keyed by credentials.
    // Set-Cookie is deliberately NOT ignored: a refreshed session's answer is never stored; nor is
    // X-Accel-Expires, which the proxy sends (as 0) on a 202 that only a --skip-auth-route earned.
    'proxy_ignore_headers Cache-Control Expires;',
    'proxy_no_cache $latchkey_no_credentials;',
    'proxy_cache_bypass $latchkey_no_credentials;',
    // nginx opens cache files through open_file_cache: keeping their descriptors saves an open,
    // fstat and close on every hit (0.73x -> 0.89x of unprotected nginx in bench/, docs/benchmarks.md).
    // It changes no answer: nginx reuses a descriptor only while it is the file the cache entry
    // names (it compares the inode it stored for the entry), and a hit is still judged by the
    // validity written in the file. Here only: the site's own files are looked at again every
    // second (nginx-parts.ts staticSiteRoot), cache files whenever the cache says so.
    `open_file_cache max=${OPEN_CACHE_FILES} inactive=60s;`,
    'open_file_cache_valid 60s;',
  ];
}

/** Where the Lua check connects: the proxy's socket, or its address ("[::1]:4180" → "[::1]", 4180). */
function luaProxyAddress(plan: DeploymentPlan): LuaCacheSettings['proxy'] {
  if (plan.proxySocket) return { socket: plan.proxySocket };
  const { host, port } = hostAndPort(plan.proxyUpstream);
  return { host, port: Number(port) };
}

const luaSettings = (plan: DeploymentPlan): LuaCacheSettings => ({
  dict: LUA_DECISIONS_DICT, ttlSeconds: plan.authCacheSeconds, proxy: luaProxyAddress(plan), headers: authCheckHeaders(plan),
});

function luaHttpLines(plan: DeploymentPlan): string[] {
  return [
    '',
    `# Auth-decision cache (--auth-cache ${plan.authCacheSeconds}s --auth-cache-engine lua): nginx remembers "allowed"`,
    '# (202) for exactly the credentials a browser sent (Cookie and Authorization headers), in a Lua',
    '# shared dict, and answers protected requests from it without asking the proxy.',
    ...revocationDelayLines(plan, null),
    '#',
    '# NEEDS the Lua module: apt-get install libnginx-mod-http-lua (Debian 12 / Ubuntu). The package',
    '# puts its load_module lines (and those of libnginx-mod-http-ndk) into /etc/nginx/modules-enabled/,',
    "# which Debian's nginx.conf includes at its top. load_module cannot go into this file: it belongs",
    '# outside http { }. Without the module, nginx -t fails on the lines below ("unknown directive").',
    '#',
    '# On a miss the check asks the proxy itself, in HTTP/1.1 over connections of its own (kept',
    `# open for reuse, ${LUA_POOL.size} per worker), with the headers an auth_request location would send; not through`,
    '# an internal location (ngx.location.capture), which lua-nginx-module refuses in HTTP/2 requests,',
    "# so in every browser's. Any failure to get the proxy's answer is a 500, logged in the error log.",
    '#',
    `# ${LUA_DECISIONS_DICT_SIZE} of shared memory holds about 80,000 decisions (one per browser and protected prefix,`,
    '# kept for the cache time only); when it is full, the least recently used ones are dropped,',
    '# which only means asking the proxy again. A reload starts it afresh.',
    `lua_shared_dict ${LUA_DECISIONS_DICT} ${LUA_DECISIONS_DICT_SIZE};`,
    '# Defines the check each protected location calls; nginx allows one init_by_lua_block per',
    '# http { }: if your configuration has one already, move these lines into it.',
    'init_by_lua_block {',
    ...indent(luaAuthCacheSource(luaSettings(plan)), 1),
    '}',
  ];
}

/**
 * The Lua engine's lines for the protected location of rule `index`: the variables the check
 * fills in and the access-phase call. They replace auth_request and its auth_request_set lines;
 * error_page 401/403 stay as they are (the check ends the request with the proxy's 401 or 403).
 * The bench uses them too.
 */
export function luaAccessLines(plan: DeploymentPlan, index: number): string[] {
  return [
    "# Filled in by the check below from the proxy's X-Auth-Request-User/-Email (sent with",
    "# --set-xauthrequest) or from the cached decision; the proxy's status when it refused.",
    'set $latchkey_user "";',
    'set $latchkey_email "";',
    'set $latchkey_auth_status "";',
    `# Answers from the auth-decision cache, or asks the proxy's ${proxyAuthPath(ruleAt(plan, index))} and caches a plain 202.`,
    "# Every Set-Cookie of the proxy's answer reaches the browser, split session cookies included.",
    '# A Lua error or a failing proxy ends the request with 500, never lets it through.',
    `access_by_lua_block { ${luaCheckCall(ruleCacheKey(ruleAt(plan, index)), proxyAuthPath(ruleAt(plan, index)))} }`,
  ];
}
