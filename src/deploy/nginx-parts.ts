import { LINK_PATH, REDACTED_MARK, SECRET_QUERY_PARAMETERS } from '../core/url-secrets.ts';
import type { DeploymentPlan } from './plan.ts';

// Pieces shared by the nginx variants (with auth, rollback, single process).

/** Two years, the HSTS preload list's minimum; no includeSubDomains, other hosts may be http. */
export const HSTS_MAX_AGE_SECONDS = 63_072_000;

export const hstsLine = `add_header Strict-Transport-Security "max-age=${HSTS_MAX_AGE_SECONDS}" always;`;

const listenOn = (plan: DeploymentPlan, port: number) => (plan.listenAddress ? `${plan.listenAddress}:${port}` : `${port}`);

/** Indents every non-empty line of `lines` by `depth` levels of four spaces. */
export function indent(lines: string[], depth: number): string[] {
  const pad = '    '.repeat(depth);
  return lines.map((line) => (line ? pad + line : line));
}

/**
 * Secrets that travel in URLs, and so in the request line nginx logs as "$request": latchkey id's
 * one-time sign-in links (/lc/TOKEN, Pocket ID's shape), the first admin's setup link
 * (/setup?token=…), the authorization code the proxy receives on /oauth2/callback?code=…, and an
 * ID token a relying party sends as id_token_hint. A link works for whoever has it until it is
 * used or expires, and opening one does not use it (mail scanners open links), so anyone who can
 * read an access log (log shippers, backups, a shared host's admins) could sign in with an unused link.
 * $latchkey_request is $request with those parts replaced; everything else stays as it was.
 */
export const REDACTED_REQUEST_VARIABLE = '$latchkey_request';
/** The same for the Referer header, which names the page a request came from: the link itself. */
export const REDACTED_REFERER_VARIABLE = '$latchkey_referer';
/** nginx's predefined "combined" format, with $latchkey_request and $latchkey_referer in place of $request and $http_referer. */
export const REDACTED_LOG_FORMAT = 'latchkey_combined';

/** The http-level lines every generated nginx file has: the map and the format that use it. */
export function redactedRequestLog(): string[] {
  return [
    '# Access logs without the secrets some URLs carry. A one-time sign-in link (/lc/TOKEN) or the',
    '# setup link (/setup?token=...) works for whoever reads it in a log until it is used or',
    '# expires (opening it does not use it); an authorization code (?code=...) and an ID token',
    '# (?id_token_hint=..., which names its user) are credentials too. $latchkey_request is',
    `# $request with them replaced: "GET /lc/${REDACTED_MARK} HTTP/2.0", "GET /setup?${REDACTED_MARK} HTTP/2.0"`,
    '# (the whole query goes). $latchkey_referer does the same to the Referer, which carries the',
    '# link to every request its page makes (its stylesheet, its form). Every server block below',
    '# logs through them: without its own access_log a server block would use the http level\'s,',
    '# on Debian "combined", which writes "$request" and "$http_referer" as they came.',
    // a request line is "METHOD TARGET PROTOCOL"; a Referer is a URL, whose #fragment is kept
    ...redactingMap('$request', REDACTED_REQUEST_VARIABLE, { before: '\\S+ [^?\\s]', secret: '\\S' }),
    ...redactingMap('$http_referer', REDACTED_REFERER_VARIABLE, { before: '[^?#]', secret: '[^#]' }),
    `log_format ${REDACTED_LOG_FORMAT} '$remote_addr - $remote_user [$time_local] "${REDACTED_REQUEST_VARIABLE}" $status $body_bytes_sent "${REDACTED_REFERER_VARIABLE}" "$http_user_agent"';`,
  ];
}

/**
 * A map from `source` to `target` with a one-time link's token, or the whole query of a URL with a
 * secret parameter, replaced. `before`: a character class of what precedes the path's end;
 * `secret`: one of what the secret may run over.
 */
function redactingMap(source: string, target: string, chars: { before: string; secret: string }): string[] {
  const value = `"$\{latchkey_before}${REDACTED_MARK}$\{latchkey_after}"`;
  // A secret parameter anywhere in a query: the whole query goes, so a repeated one goes too.
  const secretQuery = `(?:[^\\s#]*&)?(?:${SECRET_QUERY_PARAMETERS.join('|')})=`;
  return [
    `map ${source} ${target} {`,
    `    default ${source};`,
    // nginx logs a missing value as "-"; the map's empty one it would log as ""
    '    "" "-";',
    // the token and anything after it; a path that merely contains /lc/ loses its tail too
    `    "~*^(?<latchkey_before>${chars.before}*?${LINK_PATH})${chars.secret}*(?<latchkey_after>.*)$" ${value};`,
    `    "~*^(?<latchkey_before>${chars.before}*\\?)${secretQuery}${chars.secret}*(?<latchkey_after>.*)$" ${value};`,
    '}',
  ];
}

/**
 * The pages whose addresses carry a one-time link's token (/lc/TOKEN, /setup?token=…), in
 * locations of their own with the same proxying as `location /`. When nginx cannot reach latchkey
 * (a restart, a crash), its error log line names the request as it came ("connect() failed …
 * request: "GET /lc/TOKEN HTTP/2.0""), a format nothing can change, and an unused link works for
 * whoever reads it there. These locations write only critical errors (nginx's own failures, not
 * an unreachable upstream); latchkey being down still shows in the error log through every other
 * page. `proxyLines`: the proxy_pass and headers of `location /`.
 */
export function secretLinkLocations(plan: DeploymentPlan, proxyLines: string[]): string[] {
  const location = (match: string) => [`location ${match} {`, ...indent([`error_log ${plan.errorLogPath} crit;`, ...proxyLines], 1), '}'];
  return [
    '# One-time sign-in links and the setup link: their tokens stay out of the error log (see',
    '# docs/reverse-proxies.md, "Secrets in URLs and the access log"); otherwise as location /.',
    ...location(`^~ ${LINK_PATH}`),
    ...location('= /setup'),
  ];
}

/**
 * The access_log line of every generated server block. Without one a server block inherits the
 * http level's, which on Debian is /var/log/nginx/access.log in the "combined" format: "$request"
 * with every token in it.
 */
export const serverAccessLog = (plan: DeploymentPlan): string =>
  plan.defaultAccessLogPath ? `access_log ${plan.defaultAccessLogPath} ${REDACTED_LOG_FORMAT};` : 'access_log off;';

/** `listen` plus TLS lines of an HTTPS server block, and its access log. */
export function tlsServerHead(plan: DeploymentPlan, serverNames: string[]): string[] {
  return [
    // `listen … ssl http2` is the spelling nginx 1.22 (Debian 12) understands; nginx 1.25.1+
    // prefers a separate `http2 on;` but still accepts this one with a warning.
    `listen ${listenOn(plan, plan.httpsPort)} ssl http2;`,
    `server_name ${serverNames.join(' ')};`,
    '',
    `ssl_certificate ${plan.tls.certificate};`,
    `ssl_certificate_key ${plan.tls.key};`,
    '',
    hstsLine,
    serverAccessLog(plan),
  ];
}

/**
 * The lines of an `upstream` block: the server and a pool of idle connections nginx keeps open to
 * it. Without the pool (and HTTP/1.1 with no Connection header, in forwardedHeaders) nginx opens
 * a new TCP connection for every request, auth subrequests included: one per protected file.
 */
export function upstreamBlock(name: string, server: string): string[] {
  return [`upstream ${name} {`, `    server ${server};`, '    keepalive 16;', '}'];
}

/**
 * What every proxied location sends upstream. `latchkey id` builds no URL from these (APP_URL
 * decides) but logs the real client with TRUST_PROXY; the proxy needs scheme and host to build its
 * callback and to check redirect targets. nginx drops server-level proxy_set_header as soon as a
 * location sets one, so each proxied location carries the full list.
 */
export function forwardedHeaders(plan: DeploymentPlan): string[] {
  return [
    // keep-alive to the upstream (its block has `keepalive`): HTTP/1.1, and no "Connection: close"
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    ...forwardedHeaderValues(plan).map(([name, value]) => `proxy_set_header ${name} ${value};`),
  ];
}

/** The headers of forwardedHeaders, as [name, nginx value]. */
function forwardedHeaderValues(plan: DeploymentPlan): [string, string][] {
  const host = publicHost(plan);
  return [['Host', host], ['X-Real-IP', '$remote_addr'], ['X-Forwarded-For', '$proxy_add_x_forwarded_for'], ['X-Forwarded-Proto', '$scheme'], ['X-Forwarded-Host', host]];
}

/**
 * Every header the auth check sends the proxy, as [name, nginx value]: the cookie
 * (authCheckRequestHeaders), forwardedHeaders, and the page and method asked for. The auth
 * location writes them as proxy_set_header lines; the Lua engine, which asks the proxy itself,
 * sends exactly these.
 */
export function authCheckHeaders(plan: DeploymentPlan): [string, string][] {
  return [['Cookie', '$http_cookie'], ...forwardedHeaderValues(plan), ...authCheckPageHeaders];
}

/**
 * The page and the method the visitor asked for. auth_request's subrequest is always a GET: the
 * visitor's method, for METHOD= skip-auth routes, and so that a method the visitor names in their
 * own header is never believed.
 */
const authCheckPageHeaders: [string, string][] = [['X-Forwarded-Uri', '$request_uri'], ['X-Forwarded-Method', '$request_method']];
export const authCheckPageLines = authCheckPageHeaders.map(([name, value]) => `proxy_set_header ${name} ${value};`);

/**
 * The host (and port, when not 443) the browser used, as nginx variables. $host drops the port;
 * the proxy accepts a return address only on the host it was asked on, port included, so a
 * non-standard port must be added back. ($http_host would carry it too, but unchecked.)
 */
export const hostOnPort = (httpsPort: number): string => (httpsPort === 443 ? '$host' : `$host:${httpsPort}`);
export const publicHost = (plan: DeploymentPlan): string => hostOnPort(plan.httpsPort);

/**
 * The line that tells the proxy's sign-in where to send the visitor back afterwards: the page they
 * asked for, port included (after error_page's internal redirect $request_uri is still the page
 * asked for). `latchkey doctor` suggests this same line.
 */
export const signInReturnHeader = (httpsPort: number): string =>
  `proxy_set_header X-Auth-Request-Redirect $scheme://${hostOnPort(httpsPort)}$request_uri;`;

/**
 * What the auth check sends besides the headers set after it: the session cookie, nothing more.
 * /oauth2/auth reads only Cookie, Host and the X-Forwarded-* headers; by default nginx would pass
 * on every header the browser sent (User-Agent, Accept, Sec-Fetch-*, Referer …, about 1 KB of a
 * page view), which the proxy would parse on every protected request, ~6 µs of CPU each
 * (docs/benchmarks.md, lever 36). Several Cookie lines (HTTP/2) arrive joined in $http_cookie.
 */
export const authCheckRequestHeaders = ['proxy_pass_request_headers off;', 'proxy_set_header Cookie $http_cookie;'];

/** Session cookies can be several kilobytes (split into _0, _1 …); nginx's 4k default fails with
 * "upstream sent too big header" (the guide's failure mode 2). */
export const largeCookieBuffers = ['proxy_buffer_size 128k;', 'proxy_buffers 4 256k;', 'proxy_busy_buffers_size 256k;'];

/**
 * The auth check's buffers. Its answer is headers only: the identity headers and, when a session
 * is refreshed, its Set-Cookie lines, which are as long as the Cookie header the browser sent.
 * nginx refuses a request header line over 8k unless large_client_header_buffers is raised, so
 * 32k leaves room to spare (`latchkey doctor` checks it against a real session's size). Not
 * largeCookieBuffers: nginx sets proxy_buffer_size aside for every auth subrequest, and 128k cost
 * 10–13 % of protected requests per second (docs/benchmarks.md, lever 27).
 */
export const authAnswerBuffers = ['proxy_buffer_size 32k;', 'proxy_buffers 4 32k;', 'proxy_busy_buffers_size 64k;'];

/**
 * In front of `latchkey serve`, every page goes through one location: headers (the same cookies as
 * above) in 32k, bodies in the guide's 4 × 256k. 128k for the headers cost 11 % and more of pages
 * per second, with nginx's answers far more uneven (docs/benchmarks.md, lever 27).
 */
export const pageBuffers = ['proxy_buffer_size 32k;', 'proxy_buffers 4 256k;', 'proxy_busy_buffers_size 256k;'];

/** Public URL prefix of a host: no port when the standard one is used. */
export function httpsOrigin(plan: DeploymentPlan, host: string): string {
  return plan.httpsPort === 443 ? `https://${host}` : `https://${host}:${plan.httpsPort}`;
}

export function redirectToHttpsServer(plan: DeploymentPlan, serverNames: string[]): string[] {
  const target = plan.httpsPort === 443 ? 'https://$host$request_uri' : `https://$host:${plan.httpsPort}$request_uri`;
  return [
    '# Plain HTTP only redirects: passkeys and the Secure session cookie need HTTPS.',
    'server {',
    // the redirect keeps the whole address, so a link opened over http reaches this log too
    ...indent([`listen ${listenOn(plan, plan.httpPort)};`, `server_name ${serverNames.join(' ')};`, serverAccessLog(plan), `return 301 ${target};`], 1),
    '}',
  ];
}

export function header(title: string, plan: DeploymentPlan): string[] {
  return [
    `# ${title}`,
    `# Generated by \`latchkey generate nginx\` for ${plan.siteHost}. Include it inside http { }, e.g. as`,
    '# /etc/nginx/sites-available/latchkey linked from sites-enabled, then: nginx -t && systemctl reload nginx',
    '',
  ];
}

/** A `server { … }` block around lines at one level of indentation. */
export const serverBlock = (lines: string[]): string[] => ['server {', ...indent(lines, 1), '}'];

/** Paths with a segment that starts with ".", but for a leading /.well-known (PCRE, nginx's $uri: decoded, normalised). */
export const HIDDEN_PATH = '^/\\.(?!well-known(?:/|$))|^/.+/\\.';

/** Site files whose descriptors and look-ups each nginx worker keeps (open_file_cache). */
const SITE_OPEN_FILES = 1000;

/**
 * The static-site part of the site's server block: the built site, its index and its 404 page,
 * and what `latchkey serve` refuses to serve (edge/file-lookup.ts), refused here too.
 */
export const staticSiteRoot = (plan: DeploymentPlan): string[] => [
  `root ${plan.siteRoot};`,
  'index index.html;',
  'error_page 404 /404.html;',
  '',
  '# No symlink under the site root is followed (404, and a "Too many levels of symbolic links" line',
  '# in the error log): one could lead out of the site (to /etc), or from a public folder into a',
  '# protected one, which nginx would then serve by its public address without asking anyone.',
  '# (latchkey serve follows one only inside the site, and protects it by where it leads; nginx',
  '# can tell neither.) The root itself may be a symlink (from=$document_root).',
  'disable_symlinks on from=$document_root;',
  '# That check opens every folder of a path on its own; nginx keeps what it found for a second,',
  '# which makes a page cheaper than with no check and no cache at all (docs/reverse-proxies.md).',
  '# A rebuilt file is served within about a second, as latchkey serve does.',
  `open_file_cache max=${SITE_OPEN_FILES} inactive=20s;`,
  'open_file_cache_valid 1s;',
  '# Dotfiles and dot-folders (.git/, .env, editor droppings) are 404 wherever they are, protected',
  '# prefixes included (this runs before any location is chosen), as in latchkey serve; only',
  '# /.well-known/ at the top (RFC 8615: security.txt, app links) is served.',
  `if ($uri ~ "${HIDDEN_PATH}") {`,
  '    return 404;',
  '}',
];
