// The Lua of the auth-decision cache's Lua engine (`--auth-cache N --auth-cache-engine lua`),
// for lua-nginx-module 0.10.23 (Debian 12's libnginx-mod-http-lua) and later. It goes into the
// http block's init_by_lua_block and defines one function, which each protected location calls
// in its access phase (nginx-auth-cache.ts writes both). Why this shape and not auth_request with
// a Lua cache behind it: a hit here costs no subrequest at all, which is what makes the cache fast
// (docs/reverse-proxies.md has the figures).
//
// Fail closed: an error anywhere in the check makes lua-nginx-module end the request with 500; a
// proxy that cannot be reached, or answers anything but 2xx, 401 or 403, is a 500 too (what
// auth_request does). Nothing is admitted unless the proxy said 2xx for these very credentials.

export interface LuaCacheSettings {
  /** The lua_shared_dict holding the decisions. */
  dict: string;
  /** How long a 202 is reused. */
  ttlSeconds: number;
}

/** The Lua module's name in package.loaded; the protected locations require() it. */
export const LUA_MODULE = 'latchkey_auth_cache';

/** The module's source, one line per element, for init_by_lua_block. */
export function luaAuthCacheSource(settings: LuaCacheSettings): string[] {
  if (!/^[a-z_]+$/.test(settings.dict) || !Number.isInteger(settings.ttlSeconds) || settings.ttlSeconds <= 0)
    throw new Error(`bad Lua cache settings: ${JSON.stringify(settings)}`);
  return [
    `local decisions = ngx.shared.${settings.dict}`,
    `local ttl = ${settings.ttlSeconds}`,
    'local var, capture, exit, log, ERR = ngx.var, ngx.location.capture, ngx.exit, ngx.log, ngx.ERR',
    'local hmac_sha1, find, sub, lower, pairs, type = ngx.hmac_sha1, string.find, string.sub, string.lower, pairs, type',
    '',
    '-- Keys are HMAC-SHA1 digests under this secret, drawn at every start and reload of nginx (so a',
    '-- reload also forgets every decision). The dict hashes and compares whole keys, and a Cookie',
    '-- header is about 1.5 KB: 20-byte keys make a hit several microseconds cheaper. Without the',
    '-- secret nobody can make two requests whose keys collide (the known SHA-1 collision attacks',
    '-- need to compute the whole hash themselves). No secret, no nginx: an error here stops the start.',
    'local urandom = assert(io.open("/dev/urandom", "rb"))',
    'local secret = assert(urandom:read(32))',
    'urandom:close()',
    'assert(#secret == 32, "latchkey: too few random bytes for the auth cache key")',
    '',
    '-- a header the proxy sent twice arrives as a table',
    'local function first(value)',
    '    if type(value) == "table" then return value[1] end',
    '    return value',
    'end',
    '',
    '-- rule: the prefix and groups (part of the key); auth_uri: the internal location asking the proxy',
    'local function check(rule, auth_uri)',
    '    local cookie, authorization = var.http_cookie, var.http_authorization',
    '    local key',
    '    -- Without any credentials the proxy refuses anyway; such requests share no cache entry.',
    '    if cookie or authorization then',
    '        -- Everything the proxy decides from. No header value can hold "\\n", so the parts',
    '        -- cannot run into each other. $http_cookie joins several Cookie lines and HTTP/2 crumbs.',
    '        key = hmac_sha1(secret, rule .. "\\n" .. var.host .. "\\n" .. (authorization or "") .. "\\n" .. (cookie or ""))',
    '        local identity = decisions:get(key)',
    '        if identity then',
    '            local newline = find(identity, "\\n", 1, true)',
    '            var.latchkey_user = sub(identity, 1, newline - 1)',
    '            var.latchkey_email = sub(identity, newline + 1)',
    '            return',
    '        end',
    '    end',
    '',
    '    local answer = capture(auth_uri)',
    '    local status = answer.status',
    '    local set_cookie, user, email, skip_route_pass',
    '    for name, value in pairs(answer.header) do',
    '        name = lower(name)',
    '        if name == "set-cookie" then set_cookie = value',
    '        elseif name == "x-auth-request-user" then user = first(value)',
    '        elseif name == "x-auth-request-email" then email = first(value)',
    '        -- the proxy marks a 202 that a --skip-auth-route earned, not the credentials',
    '        elseif name == "x-accel-expires" then skip_route_pass = true end',
    '    end',
    '    -- every Set-Cookie line (a refreshed or ended session, split parts included) goes to',
    '    -- the browser, with the page, the sign-in or the refusal',
    '    if set_cookie then ngx.header["Set-Cookie"] = set_cookie end',
    '    if status == 401 or status == 403 then',
    '        -- error_page 401 (sign-in) and 403 (the refusal page) take over, as with auth_request',
    '        var.latchkey_auth_status = status == 401 and "401" or "403"',
    '        return exit(status)',
    '    end',
    '    if status < 200 or status > 299 then',
    '        log(ERR, "latchkey: ", auth_uri, " answered ", status, "; refusing the request")',
    '        return exit(500)',
    '    end',
    '    user, email = user or "", email or ""',
    '    var.latchkey_user, var.latchkey_email = user, email',
    '    -- Only a plain 202 is reused: never a refresh (its new cookie must not be replayed), never',
    '    -- a pass on a skip route (it holds for that path only), and never a refusal (signing in',
    '    -- must take effect at once). A full dict drops its least',
    '    -- recently used entries; if even that fails, the decision is simply not kept.',
    '    if key and status == 202 and not set_cookie and not skip_route_pass then',
    '        decisions:set(key, user .. "\\n" .. email, ttl)',
    '    end',
    'end',
    '',
    `package.loaded.${LUA_MODULE} = { check = check }`,
  ];
}

/** The access-phase call of one protected location. */
export function luaCheckCall(ruleKey: string, authUri: string): string {
  for (const text of [ruleKey, authUri]) if (/["\\\n]/.test(text)) throw new Error(`${JSON.stringify(text)} cannot go into a Lua string`);
  return `require("${LUA_MODULE}").check("${ruleKey}", "${authUri}")`;
}
