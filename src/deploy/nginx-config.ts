import { authAnswerBuffers, authCheckPageLines, authCheckRequestHeaders, forwardedHeaders, header, hstsLine, indent, largeCookieBuffers, REDACTED_REFERER_VARIABLE, REDACTED_REQUEST_VARIABLE, redactedRequestLog, redirectToHttpsServer, secretLinkLocations, signInReturnHeader, staticSiteRoot, tlsServerHead, upstreamBlock } from './nginx-parts.ts';
import { authCacheEngineOf, authCacheHttpLines, authCacheLines, authCheckUri, luaAccessLines, proxyAuthPath } from './nginx-auth-cache.ts';
import type { DeploymentPlan, ProtectedPrefix } from './plan.ts';
import { RELAYED_COOKIE_LINES, relayedCookieHeader } from '../proxy/relayed-cookies.ts';
import { providerLogoutUrl, refusedPageHtml } from './refused-page.ts';

// The deployment guide's Step 4 (nginx in front of Pocket ID and oauth2-proxy), corrected.
// docs/reverse-proxies.md explains every difference from the guide.

const SIGN_IN_LOCATION = '/_latchkey/sign-in';
const authLocation = authCheckUri;
const refusedLocation = (index: number) => `/_latchkey/refused/${index}`;

// bench/lib/nginx-bench-config.ts builds its variants from the generator's own cache lines
export { authCacheHttpLines, authCacheLines, luaAccessLines } from './nginx-auth-cache.ts';

function httpLevel(plan: DeploymentPlan): string[] {
  const lines = [
    ...upstreamBlock('latchkey_id', plan.idUpstream), '', ...upstreamBlock('latchkey_proxy', plan.proxySocket ? `unix:${plan.proxySocket}` : plan.proxyUpstream),
    '', ...redactedRequestLog(),
  ];
  if (plan.accessLogPath)
    lines.push(
      '',
      '# Static files have no backend to hand the identity to, so the access log is where the',
      '# X-Auth-Request-User the proxy answered with is useful ("who read what"). Secrets hidden as above.',
      `log_format latchkey '$remote_addr - $latchkey_user [$time_local] "${REDACTED_REQUEST_VARIABLE}" $status $body_bytes_sent "${REDACTED_REFERER_VARIABLE}" "$http_user_agent"';`,
    );
  lines.push(...authCacheHttpLines(plan));
  return lines;
}

/** The internal location that asks the proxy about one rule; groups travel as ?allowed_groups=. */
function authCheckLocation(plan: DeploymentPlan, rule: ProtectedPrefix, index: number): string[] {
  return [
    `# The auth check for ${rule.prefix}${rule.allowedGroups.length ? ` (groups: ${rule.allowedGroups.join(', ')})` : ' (any signed-in user)'}.`,
    `location = ${authLocation(index)} {`,
    ...indent(
      [
        'internal;',
        `proxy_pass http://latchkey_proxy${proxyAuthPath(rule)};`,
        'proxy_pass_request_body off;',
        'proxy_set_header Content-Length "";',
        ...authCheckRequestHeaders,
        ...forwardedHeaders(plan),
        ...authCheckPageLines,
        // a refreshed session comes back as Set-Cookie on this answer
        ...authAnswerBuffers,
        ...authCacheLines(plan, index),
      ],
      1,
    ),
    '}',
  ];
}

/**
 * What a signed-in visitor whom the proxy refused (403: not in the prefix's groups) sees, instead
 * of nginx's bare "403 Forbidden". A page in place, never a redirect to sign in, which would bring
 * them straight back here as the same user: a loop. (auth_request drops the proxy's own body.)
 */
function refusedPageLocation(plan: DeploymentPlan, rule: ProtectedPrefix, index: number): string[] {
  const page = refusedPageHtml(providerLogoutUrl(plan)).replaceAll("'", '&#39;');
  return [
    `# A signed-in visitor refused by the check for ${rule.prefix} sees why, in place (never a redirect,`,
    '# which would only bring them back here: a loop).',
    `location = ${refusedLocation(index)} {`,
    ...indent(
      [
        'internal;',
        "# Only the proxy's refusal: a 403 of nginx's own (a folder without index.html) stays nginx's.",
        'if ($latchkey_auth_status != 403) {',
        '    return 403;',
        '}',
        'default_type "text/html; charset=utf-8";',
        hstsLine,
        'add_header Cache-Control "no-store" always;',
        `return 403 '${page}';`,
      ],
      1,
    ),
    '}',
  ];
}

/** The auth answer's Set-Cookie lines, one header each (proxy/relayed-cookies.ts); nginx skips an empty add_header. */
const relayedCookieSlots = Array.from({ length: RELAYED_COOKIE_LINES }, (_, i) => ({ header: relayedCookieHeader(i), variable: `$latchkey_auth_cookie_${i}` }));

/** auth_request's lines that read the proxy's answer: who the visitor is, and a refreshed cookie. */
function authRequestIdentityLines(plan: DeploymentPlan): string[] {
  return [
    plan.accessLogPath
      ? '# The proxy sends these with --set-xauthrequest; used by the access log below.'
      : '# The proxy sends these with --set-xauthrequest; use them in a log_format if wanted.',
    'auth_request_set $latchkey_user $upstream_http_x_auth_request_user;',
    'auth_request_set $latchkey_email $upstream_http_x_auth_request_email;',
    '# The proxy refreshes sessions inside /oauth2/auth; pass its Set-Cookie lines on to the browser.',
    '# It also sends each line in a header of its own, since of several Set-Cookie lines nginx keeps',
    '# only the first (1.22) or joins them into one (1.23 and later); a split session has several.',
    ...relayedCookieSlots.map((slot) => `auth_request_set ${slot.variable} $upstream_http_${slot.header.replaceAll('-', '_')};`),
    ...relayedCookieSlots.map((slot) => `add_header Set-Cookie ${slot.variable};`),
  ];
}

/**
 * The locations of a protected prefix: the prefix (/private/), and the same check on its name
 * without the slash (/private), which nginx would otherwise answer from `location /` with a 301 to
 * /private/ to anyone, telling them the section exists; latchkey serve and the Caddyfile protect
 * it too. Once the visitor is let in, nginx sends them on to /private/ as before.
 */
function protectedLocations(plan: DeploymentPlan, rule: ProtectedPrefix, index: number): string[] {
  return [
    `# ^~ makes this prefix win over every regex location: without it a location such as`,
    `# "location ~* \\.xml$" (feeds, sitemaps) would serve ${rule.prefix}index.xml without auth.`,
    ...protectedLocation(plan, index, `^~ ${rule.prefix}`),
    '',
    `# ${rule.prefix.slice(0, -1)} without its slash: the same check, so that nobody learns what is there (nginx`,
    `# would answer with a redirect to ${rule.prefix}) before signing in.`,
    ...protectedLocation(plan, index, `= ${rule.prefix.slice(0, -1)}`),
  ];
}

function protectedLocation(plan: DeploymentPlan, index: number, match: string): string[] {
  // The Lua engine checks in the access phase itself (nginx-auth-cache.ts), without auth_request.
  const lua = authCacheEngineOf(plan) === 'lua';
  return [
    `location ${match} {`,
    ...indent(
      [
        ...(lua ? [] : [`auth_request ${authLocation(index)};`]),
        '# No session: show the proxy\'s sign-in, which sends the visitor back here afterwards.',
        `error_page 401 = ${SIGN_IN_LOCATION};`,
        '# Signed in but refused (not in the groups): a page that says why.',
        `error_page 403 = ${refusedLocation(index)};`,
        ...(lua ? [] : ['auth_request_set $latchkey_auth_status $upstream_status;']),
        // error_page directives are inherited only when a level sets none, so repeat the 404 page
        'error_page 404 /404.html;',
        '',
        ...(lua ? luaAccessLines(plan, index) : authRequestIdentityLines(plan)),
        // add_header here hides the server-level ones, so HSTS is repeated
        hstsLine,
        '# Private pages must not be kept by shared caches (CDNs, corporate proxies), nor by the',
        '# browser: with only Last-Modified it would show a private page again after sign-out.',
        'add_header Cache-Control "private, no-store" always;',
        // Buffered: one write per 64k of lines instead of one per request (8 % of protected requests
        // per second, docs/benchmarks.md, lever 28). A line waits at most a second; nginx writes
        // the buffer out on reload and stop, so only a crash can lose that second.
        ...(plan.accessLogPath ? [`access_log ${plan.accessLogPath} latchkey buffer=64k flush=1s;`] : []),
        '',
        // root (inherited), not the guide's alias: alias with try_files has long-standing bugs
        'try_files $uri $uri/ =404;',
      ],
      1,
    ),
    '}',
  ];
}

function siteServer(plan: DeploymentPlan): string[] {
  const body: string[] = [
    ...tlsServerHead(plan, [plan.siteHost]),
    '',
    ...staticSiteRoot(plan),
    '',
    "# The proxy's own endpoints: sign_in, start, callback, sign_out (and auth). ^~ keeps regex",
    '# locations from taking them over.',
    'location ^~ /oauth2/ {',
    ...indent(['proxy_pass http://latchkey_proxy;', ...forwardedHeaders(plan), ...largeCookieBuffers], 1),
    '}',
    '',
    '# Where error_page 401 sends a visitor without a session. Why a header and not',
    '# "return 302 /oauth2/sign_in?rd=$scheme://$host$request_uri": nginx cannot URL-encode',
    '# $request_uri, so a page address with a query (?a=1&b=2) would be cut at its first "&" and',
    '# the rest read as parameters of the sign-in URL. error_page does an internal redirect, which',
    '# keeps $request_uri as the original request, so the whole address arrives in a header, where',
    '# nothing needs encoding. The location is internal, so a direct visit to /oauth2/sign_in is',
    '# never told to come back to /oauth2/sign_in.',
    `location = ${SIGN_IN_LOCATION} {`,
    ...indent(
      [
        'internal;',
        'proxy_pass http://latchkey_proxy/oauth2/sign_in;',
        'proxy_pass_request_body off;',
        'proxy_set_header Content-Length "";',
        ...forwardedHeaders(plan),
        signInReturnHeader(plan.httpsPort),
        ...largeCookieBuffers,
        // The auth answer's Set-Cookie lines (the proxy deletes a session that has ended) would be
        // lost with the protected location's add_header at the internal redirect; the variables are not.
        // (The Lua engine sets the header itself and declares no such variable.)
        ...(authCacheEngineOf(plan) === 'lua' ? [] : relayedCookieSlots.map((slot) => `add_header Set-Cookie ${slot.variable} always;`)),
      ],
      1,
    ),
    '}',
  ];
  // The Lua engine asks the proxy from its check itself, over a connection of its own: no auth location.
  const lua = authCacheEngineOf(plan) === 'lua';
  plan.protectedPrefixes.forEach((rule, i) =>
    body.push(...(lua ? [] : ['', ...authCheckLocation(plan, rule, i + 1)]), '', ...refusedPageLocation(plan, rule, i + 1), '', ...protectedLocations(plan, rule, i + 1)));
  body.push('', '# Public content: no auth.', 'location / {', '    try_files $uri $uri/ =404;', '}');
  return ['server {', ...indent(body, 1), '}'];
}

function idServer(plan: DeploymentPlan): string[] {
  const proxying = ['proxy_pass http://latchkey_id;', ...forwardedHeaders(plan)];
  return [
    '# The identity provider (latchkey id; run it with APP_URL=https://' + plan.idHost + ' TRUST_PROXY=127.0.0.1).',
    'server {',
    ...indent([...tlsServerHead(plan, [plan.idHost]), '', 'location / {', ...indent(proxying, 1), '}', '', ...secretLinkLocations(plan, proxying)], 1),
    '}',
  ];
}

/** nginx in front of `latchkey id` and `latchkey proxy`, serving the site's static files. */
export function generateNginxConfig(plan: DeploymentPlan): string {
  return [
    ...header('latchkey: nginx serves the site, asks `latchkey proxy` before every protected file', plan),
    ...httpLevel(plan),
    '',
    ...redirectToHttpsServer(plan, [plan.siteHost, plan.idHost]),
    '',
    ...idServer(plan),
    '',
    ...siteServer(plan),
    '',
  ].join('\n');
}
