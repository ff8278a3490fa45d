// The Lua of the auth-decision cache's Lua engine (`--auth-cache N --auth-cache-engine lua`),
// for lua-nginx-module 0.10.23 (Debian 12's libnginx-mod-http-lua) and later. It goes into the
// http block's init_by_lua_block and defines one function, which each protected location calls
// in its access phase (nginx-auth-cache.ts writes both). Why this shape and not auth_request with
// a Lua cache behind it: a hit here costs no subrequest at all, which is what makes the cache fast
// (docs/reverse-proxies.md has the figures).
//
// On a miss the check asks the proxy itself, over a connection of its own (a cosocket, with a
// keep-alive pool), in plain HTTP/1.1. Not through an internal location with
// ngx.location.capture: lua-nginx-module (0.10.23 in Debian 12) refuses that in an HTTP/2 request
// ("http2 requests not supported yet", its issue #1195), and the generated server speaks HTTP/2,
// so every browser got a 500 while HTTP/1.1 clients (curl, wrk) passed.
//
// Fail closed: an error anywhere in the check makes lua-nginx-module end the request with 500; a
// proxy that cannot be reached, times out, answers something that is not HTTP/1.x, or answers
// anything but 2xx, 401 or 403 is a 500 too (what auth_request does). Nothing is admitted unless
// the proxy said 2xx for these very credentials.

import { IP_ADDRESS } from './plan.ts';

export interface LuaCacheSettings {
  /** The lua_shared_dict holding the decisions. */
  dict: string;
  /** How long a 202 is reused. */
  ttlSeconds: number;
  /** Where the check reaches the proxy: a unix socket, or an IP address (IPv6 in brackets) and port. */
  proxy: { socket: string } | { host: string; port: number };
  /**
   * The request headers of the check, as [name, nginx value] ("$host:8443"): exactly those of the
   * auth location the other engines use (nginx-parts.ts authCheckHeaders). An empty value leaves
   * the header out, as proxy_set_header does.
   */
  headers: ReadonlyArray<readonly [string, string]>;
}

/** The Lua module's name in package.loaded; the protected locations require() it. */
export const LUA_MODULE = 'latchkey_auth_cache';

/** Milliseconds to connect to the proxy, to send the question, and for each read of the answer. */
export const LUA_PROXY_TIMEOUTS_MS = { connect: 5_000, send: 10_000, read: 30_000 } as const;
/**
 * Idle connections to the proxy each nginx worker keeps open (as `keepalive 16` in the upstream
 * block), and how long: under latchkey proxy's own 72 s, so that it is nginx that closes them.
 */
export const LUA_POOL = { size: 16, idleMs: 60_000 } as const;

// A literal part of a header value, or a path: nothing a Lua string would need escaped.
const PLAIN = /^[A-Za-z0-9._~:/?=,&%+@[\] -]*$/;
const luaString = (text: string): string => {
  if (!PLAIN.test(text)) throw new Error(`${JSON.stringify(text)} cannot go into a Lua string`);
  return `"${text}"`;
};

/**
 * Variables ngx.var cannot read, and what they are made of. $proxy_add_x_forwarded_for is not in
 * nginx's table of variables by name (NGX_HTTP_VAR_NOHASH): ngx.var gives nil. nginx makes it of
 * the visitor's X-Forwarded-For ($http_x_forwarded_for joins several with ", ") and the address.
 */
const COMPUTED_VARIABLES: Record<string, string> = {
  $proxy_add_x_forwarded_for: '(var.http_x_forwarded_for and var.http_x_forwarded_for .. ", " or "") .. var.remote_addr',
};

/** An nginx value ("$host:8443") as a Lua expression over ngx.var; a missing variable is "". */
function luaValue(nginxValue: string): string {
  const parts = nginxValue.split(/(\$[a-z_][a-z0-9_]*)/).filter(Boolean);
  if (!parts.length) throw new Error('an empty header value');
  const variable = (name: string) => (Object.hasOwn(COMPUTED_VARIABLES, name) ? `(${COMPUTED_VARIABLES[name]})` : `(var.${name.slice(1)} or "")`);
  return parts.map((part) => (part.startsWith('$') ? variable(part) : luaString(part))).join(' .. ');
}

/** The Lua lines that connect `sock` to the proxy. */
function connectLines(proxy: LuaCacheSettings['proxy']): string[] {
  if ('socket' in proxy) return ['local function connect(sock)', `    return sock:connect(${luaString(`unix:${proxy.socket}`)})`, 'end'];
  // nginx resolves no name for a cosocket without a `resolver`: the plan allows only addresses here
  if (!IP_ADDRESS.test(proxy.host) || !Number.isInteger(proxy.port)) throw new Error(`the Lua auth cache reaches the proxy at an IP address, not ${JSON.stringify(proxy.host)}`);
  return ['local function connect(sock)', `    return sock:connect(${luaString(proxy.host)}, ${proxy.port})`, 'end'];
}

/** The module's source, one line per element, for init_by_lua_block. */
export function luaAuthCacheSource(settings: LuaCacheSettings): string[] {
  if (!/^[a-z_]+$/.test(settings.dict) || !Number.isInteger(settings.ttlSeconds) || settings.ttlSeconds <= 0)
    throw new Error(`bad Lua cache settings: ${JSON.stringify({ dict: settings.dict, ttlSeconds: settings.ttlSeconds })}`);
  for (const [name] of settings.headers) if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(name)) throw new Error(`bad header name ${JSON.stringify(name)}`);
  const t = LUA_PROXY_TIMEOUTS_MS;
  return [
    `local decisions = ngx.shared.${settings.dict}`,
    `local ttl = ${settings.ttlSeconds}`,
    'local var, exit, log, ERR, tcp = ngx.var, ngx.exit, ngx.log, ngx.ERR, ngx.socket.tcp',
    'local hmac_sha1, find, sub, lower, match, tonumber = ngx.hmac_sha1, string.find, string.sub, string.lower, string.match, tonumber',
    '',
    '-- The proxy, reached over a connection of the check\'s own (see below). Timeouts in ms:',
    '-- connecting, sending the question, and each read of the answer.',
    ...connectLines(settings.proxy),
    `local CONNECT_TIMEOUT, SEND_TIMEOUT, READ_TIMEOUT = ${t.connect}, ${t.send}, ${t.read}`,
    `-- idle connections kept per worker, and for how long (under latchkey proxy's 72 s)`,
    `local POOL_SIZE, POOL_IDLE = ${LUA_POOL.size}, ${LUA_POOL.idleMs}`,
    '-- /oauth2/auth answers with headers only (a refreshed split session: some 16 KB); bounds',
    '-- for an answer that is not',
    'local MAX_HEAD, MAX_BODY = 65536, 65536',
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
    '-- One header line of the question; a header whose value is empty is left out, as',
    '-- proxy_set_header does. nginx refuses requests with a line break or NUL in a header (HTTP/1',
    '-- and HTTP/2 alike); one must never reach the proxy all the same.',
    'local function add(parts, name, value)',
    '    if value == "" then return end',
    '    if find(value, "\\n", 1, true) or find(value, "\\r", 1, true) or find(value, "\\0", 1, true) then',
    '        error("latchkey: a line break in the " .. sub(name, 1, -3) .. " header")',
    '    end',
    '    local n = #parts',
    '    parts[n + 1], parts[n + 2], parts[n + 3] = name, value, "\\r\\n"',
    'end',
    '',
    '-- The question for `path` (/oauth2/auth and the rule\'s groups): the same headers as the auth',
    '-- location of `latchkey generate nginx` without this engine, none of the visitor\'s but the',
    '-- cookie. A table of strings, which sock:send joins without making a Lua string of it.',
    'local function question(path)',
    '    local parts = { "GET ", path, " HTTP/1.1\\r\\n" }',
    ...settings.headers.map(([name, value]) => `    add(parts, "${name}: ", ${luaValue(value)})`),
    '    parts[#parts + 1] = "\\r\\n"',
    '    return parts',
    'end',
    '',
    '-- Reads and drops a chunked body; false when the connection cannot be used again.',
    'local function skip_chunked(sock)',
    '    local total = 0',
    '    while true do',
    '        local line = sock:receive("*l")',
    '        local hex = line and match(line, "^%x+")',
    '        if not hex then return false end',
    '        local size = tonumber(hex, 16)',
    '        if size == 0 then',
    '            -- trailer lines, if any, up to the empty line',
    '            for _ = 1, 100 do',
    '                line = sock:receive("*l")',
    '                if line == "" then return true end',
    '                if not line then return false end',
    '            end',
    '            return false',
    '        end',
    '        total = total + size',
    '        if total > MAX_BODY or not sock:receive(size) or sock:receive("*l") ~= "" then return false end',
    '    end',
    'end',
    '',
    '-- The value of the first header line named `name` (lower case, "\\r\\nname:") at or after',
    '-- `from`, spaces around it dropped, and where its line ends; nil when there is none. `low` is',
    '-- `head` in lower case: plain searches in it, done in C, instead of Lua patterns on every line.',
    'local function header_value(head, low, name, from)',
    '    local _, colon = find(low, name, from, true)',
    '    if not colon then return nil end',
    '    local stop = find(head, "\\r\\n", colon + 1, true) or #head + 1',
    '    return match(sub(head, colon + 1, stop - 1), "^[ \\t]*(.-)[ \\t]*$"), stop',
    'end',
    '',
    '-- The proxy\'s answer: its status, every Set-Cookie line, who the visitor is, whether it is a',
    '-- pass on a skip route, and whether the connection can be used again; nil and why when the',
    '-- answer is cut short, too long or not HTTP/1.x. Its head is read in one piece.',
    'local function read_answer(sock)',
    '    local head_of = sock:receiveuntil("\\r\\n\\r\\n")',
    '    local head, err = head_of(MAX_HEAD)',
    '    if not head then return nil, err end',
    '    -- what is left of a head longer than MAX_HEAD comes next; the end of the head gives nil',
    '    if head_of(MAX_HEAD) ~= nil then return nil, "an answer head of more than " .. MAX_HEAD .. " bytes" end',
    '    local minor, status = match(head, "^HTTP/1%.([01]) ([1-5]%d%d)[ \\r]")',
    '    if not status then minor, status = match(head, "^HTTP/1%.([01]) ([1-5]%d%d)$") end',
    '    if not status then return nil, "an answer that is not HTTP/1.x" end',
    '    -- a line that is not "name: value" (or one folded onto the next) makes it no HTTP',
    '    if find(head, "\\r\\n[^:\\r\\n]*\\r\\n") or find(head, "\\r\\n[^:\\r\\n]*$") or find(head, "\\r\\n[ \\t]") then',
    '        return nil, "a header line without a name"',
    '    end',
    '    local low = lower(head)',
    '    local answer = {',
    '        status = tonumber(status),',
    '        reusable = minor == "1" and not find(lower(header_value(head, low, "\\r\\nconnection:", 1) or ""), "close", 1, true),',
    '        user = header_value(head, low, "\\r\\nx-auth-request-user:", 1),',
    '        email = header_value(head, low, "\\r\\nx-auth-request-email:", 1),',
    '        -- the proxy marks a 202 that a --skip-auth-route earned, not the credentials',
    '        skip_route_pass = find(low, "\\r\\nx-accel-expires:", 1, true) ~= nil,',
    '    }',
    '    local cookie, at = header_value(head, low, "\\r\\nset-cookie:", 1)',
    '    while cookie do',
    '        local cookies = answer.cookies or {}',
    '        cookies[#cookies + 1] = cookie',
    '        answer.cookies = cookies',
    '        cookie, at = header_value(head, low, "\\r\\nset-cookie:", at)',
    '    end',
    '    -- the body (the proxy sends none) only decides whether the connection is used again',
    '    local chunked = header_value(head, low, "\\r\\ntransfer-encoding:", 1)',
    '    local length = header_value(head, low, "\\r\\ncontent-length:", 1)',
    '    if not answer.reusable or answer.status == 204 or answer.status == 304 then',
    '    elseif chunked then answer.reusable = lower(chunked) == "chunked" and skip_chunked(sock)',
    '    elseif not length or not match(length, "^%d+$") or tonumber(length) > MAX_BODY then answer.reusable = false',
    '    elseif length ~= "0" then answer.reusable = sock:receive(tonumber(length)) ~= nil end',
    '    return answer',
    'end',
    '',
    '-- Asks the proxy once. A pooled connection the proxy closed while it sat idle shows only when',
    '-- it is used: then the question (a GET) goes once more, on a new connection, as nginx\'s proxy',
    '-- module does. Returns the answer, or nil and why.',
    'local function ask(request)',
    '    for attempt = 1, 2 do',
    '        local sock = tcp()',
    '        sock:settimeouts(CONNECT_TIMEOUT, SEND_TIMEOUT, READ_TIMEOUT)',
    '        local ok, err = connect(sock)',
    '        if not ok then return nil, "cannot connect: " .. (err or "?") end',
    '        local reused = (sock:getreusedtimes() or 0) > 0',
    '        local answer',
    '        ok, err = sock:send(request)',
    '        if ok then answer, err = read_answer(sock) end',
    '        if answer then',
    '            if answer.reusable then sock:setkeepalive(POOL_IDLE, POOL_SIZE) else sock:close() end',
    '            return answer',
    '        end',
    '        sock:close()',
    '        err = err or "?"',
    '        if not (reused and attempt == 1 and (err == "closed" or find(err, "reset", 1, true) or find(err, "broken pipe", 1, true))) then return nil, err end',
    '    end',
    'end',
    '',
    '-- rule: the prefix and groups (part of the key); path: what to ask the proxy, /oauth2/auth?…',
    'local function check(rule, path)',
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
    '    local answer, err = ask(question(path))',
    '    if not answer then',
    '        log(ERR, "latchkey: asking the proxy ", path, " failed (", err, "); refusing the request")',
    '        return exit(500)',
    '    end',
    '    local status = answer.status',
    '    -- every Set-Cookie line (a refreshed or ended session, split parts included) goes to',
    '    -- the browser, with the page, the sign-in or the refusal',
    '    if answer.cookies then ngx.header["Set-Cookie"] = answer.cookies end',
    '    if status == 401 or status == 403 then',
    '        -- error_page 401 (sign-in) and 403 (the refusal page) take over, as with auth_request',
    '        var.latchkey_auth_status = status == 401 and "401" or "403"',
    '        return exit(status)',
    '    end',
    '    if status < 200 or status > 299 then',
    '        log(ERR, "latchkey: the proxy answered ", path, " with ", status, "; refusing the request")',
    '        return exit(500)',
    '    end',
    '    local user, email = answer.user or "", answer.email or ""',
    '    var.latchkey_user, var.latchkey_email = user, email',
    '    -- Only a plain 202 is reused: never a refresh (its new cookie must not be replayed), never',
    '    -- a pass on a skip route (it holds for that path only), and never a refusal (signing in',
    '    -- must take effect at once). A full dict drops its least recently used entries; if even',
    '    -- that fails, the decision is simply not kept.',
    '    if key and status == 202 and not answer.cookies and not answer.skip_route_pass then',
    '        decisions:set(key, user .. "\\n" .. email, ttl)',
    '    end',
    'end',
    '',
    `package.loaded.${LUA_MODULE} = { check = check }`,
  ];
}

/** The access-phase call of one protected location: the rule's cache key and the path to ask the proxy. */
export function luaCheckCall(ruleKey: string, proxyPath: string): string {
  return `require("${LUA_MODULE}").check(${luaString(ruleKey)}, ${luaString(proxyPath)})`;
}
