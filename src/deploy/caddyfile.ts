import { REDACTED_MARK, SECRETS_IN_URL_RE2 } from '../core/url-secrets.ts';
import { HSTS_MAX_AGE_SECONDS } from './nginx-parts.ts';
import { defaultTlsFor, type DeploymentPlan, type ProtectedPrefix } from './plan.ts';
import { providerLogoutUrl, refusedPageHtml } from './refused-page.ts';

// A Caddyfile doing what the nginx configuration does. Caddy 2.6 notes (TESTING.md):
// the auth check goes inside route {} so it runs before file_server in the order written;
// {hostport} rather than {host} keeps a non-standard port in the address sent back;
// a header copied from the 202 but missing on it reaches the request as literal placeholder
// text, so only X-Auth-Request-User (always sent) is copied.
//
// The check is forward_auth's documented expanded form, not forward_auth itself: forward_auth's
// own handler for a 2xx answer comes first and drops the answer's Set-Cookie, so a session the
// proxy refreshed (--cookie-refresh) never reached the browser, which kept sending the old cookie
// and its spent refresh token until the provider refused it and the visitor was signed out. Its
// own handler cannot be replaced (a second 2xx handler is never reached), hence the long form.

// Caddy's address of a unix socket is the network "unix/" followed by the path: unix//run/….sock
const proxyAddress = (plan: DeploymentPlan) => (plan.proxySocket ? `unix/${plan.proxySocket}` : plan.proxyUpstream);

const tab = (lines: string[], depth: number) => lines.map((l) => (l ? '\t'.repeat(depth) + l : l));

/** Longest prefix wins, as in nginx and `latchkey serve`: a rule excludes the longer rules inside it. */
function matcher(rule: ProtectedPrefix, index: number, all: ProtectedPrefix[]): string[] {
  const bare = rule.prefix.slice(0, -1);
  const nested = all.filter((other) => other.prefix !== rule.prefix && other.prefix.startsWith(rule.prefix));
  return [
    `@protected${index} {`,
    `\tpath ${rule.prefix}* ${bare}`,
    ...nested.map((other) => `\tnot path ${other.prefix}* ${other.prefix.slice(0, -1)}`),
    '}',
  ];
}

function forwardAuth(plan: DeploymentPlan, rule: ProtectedPrefix, index: number): string[] {
  const query = rule.allowedGroups.length ? `?allowed_groups=${rule.allowedGroups.map(encodeURIComponent).join(',')}` : '';
  return [
    `# ${rule.prefix}: ${rule.allowedGroups.length ? `members of ${rule.allowedGroups.join(', ')}` : 'any signed-in user'}`,
    `reverse_proxy @protected${index} ${proxyAddress(plan)} {`,
    ...tab(
      [
        // forward_auth's expansion: ask with GET (no body), saying which page and method it is for
        'method GET',
        `rewrite /oauth2/auth${query}`,
        'header_up X-Forwarded-Method {method}',
        'header_up X-Forwarded-Uri {uri}',
        '# Signed in: who it is goes on to the request, a refreshed session\'s cookie on to the',
        '# visitor with the file; nothing is answered here, so the route goes on to file_server.',
        '@allowed status 2xx',
        'handle_response @allowed {',
        '\trequest_header X-Auth-Request-User {rp.header.X-Auth-Request-User}',
        '\tcopy_response_headers {',
        '\t\tinclude Set-Cookie',
        '\t}',
        '}',
        '# No session: show the proxy\'s sign-in in place, with the whole original address in a',
        '# header (no query-string encoding to get wrong); the proxy sends the visitor back there.',
        '@unauthorized status 401',
        'handle_response @unauthorized {',
        '\trewrite * /oauth2/sign_in?',
        '\trequest_header X-Auth-Request-Redirect {scheme}://{hostport}{http.request.orig_uri}',
        `\treverse_proxy ${proxyAddress(plan)}`,
        '}',
        '# Signed in but not in the allowed groups: say so in place (a redirect would loop).',
        '@forbidden status 403',
        'handle_response @forbidden {',
        '\theader Content-Type "text/html; charset=utf-8"',
        '\theader Cache-Control "private, no-store"',
        `\trespond \`${refusedPageHtml(providerLogoutUrl(plan))}\` 403`,
        '}',
      ],
      1,
    ),
    '}',
  ];
}

/**
 * Caddy writes the URI and headers of every request a handler failed on to its own log
 * (http.log.error: a 502 while latchkey restarts), and that log is not the access log a site's
 * `log` filters. So the global log filters the URI and Referer of every entry: an unused sign-in
 * link, setup token or code there would let whoever reads the journal in. (Caddy itself leaves
 * Cookie and Authorization out.) JSON, as Caddy writes when it is not on a terminal.
 */
const logFilter = (): string[] => {
  const replace = `regexp "${SECRETS_IN_URL_RE2}" "$1$2${REDACTED_MARK}"`;
  return ['log {', '\tformat filter {', '\t\twrap json', '\t\tfields {', `\t\t\trequest>uri ${replace}`, `\t\t\trequest>headers>Referer ${replace}`, '\t\t}', '\t}', '}'];
};

function globalOptions(plan: DeploymentPlan): string[] {
  const options: string[] = [];
  if (plan.httpPort !== 80) options.push(`http_port ${plan.httpPort}`);
  if (plan.httpsPort !== 443) options.push(`https_port ${plan.httpsPort}`);
  options.push(...logFilter());
  return ['{', ...tab(options, 1), '}', ''];
}

/**
 * Dotfiles and dot-folders (.git/, .env) are 404 as in `latchkey serve` and the nginx file, but for
 * /.well-known/ at the top (RFC 8615). A request-path matcher rather than file_server's `hide .*`,
 * which compares every part of the file's path on disk and so would hide /.well-known/ too (and
 * the whole site under a root such as /srv/.sites/). Caddy matches the decoded, cleaned path
 * (/%2egit/ and //.git/ included). Caddy 2.6 has no setting to stop following symlinks; the
 * generated file says what to do instead.
 */
const hiddenMatcher = (plan: DeploymentPlan): string[] => [
  '# Dotfiles and dot-folders (.git/, .env) are 404, as latchkey serve does; only /.well-known/ at the',
  '# top (RFC 8615) is served.',
  '@hidden {',
  '\tpath_regexp ^/(?:[^/]*/)*\\.',
  '\tnot path_regexp ^/\\.well-known(?:/[^./][^/]*)*/?$',
  '}',
  '# SYMLINKS: Caddy follows every symlink under the root, to a file outside the site or, from a',
  '# public folder, to a protected file, which it then serves by its public address without a',
  `# check; it has no setting against it. Keep none in the site: \`find ${plan.siteRoot} -type l\` must`,
  '# print nothing (Hugo makes none), or let nginx or latchkey serve serve the files.',
];
const refuseHidden = ['error @hidden 404'];

const bindLine = (plan: DeploymentPlan) => (plan.listenAddress ? [`bind ${plan.listenAddress.replace(/^\[|\]$/g, '')}`] : []);

/**
 * Caddy's own http→https redirect never names a port: it takes https_port for an internal port
 * behind a forwarder that the public reaches on 443. Here --https-port is the public port (as in
 * the nginx file), so a non-default one gets an explicit redirect that keeps it; Caddy then adds
 * no redirect of its own for these hosts. {host} is the request's host without its (http) port.
 */
function redirectToHttps(plan: DeploymentPlan, hosts: string[]): string[] {
  if (plan.httpsPort === 443) return [];
  return [
    '# Plain HTTP only redirects, to the https port that is not 443: passkeys and the Secure cookie need HTTPS.',
    `${hosts.map((host) => `http://${host}`).join(', ')} {`,
    ...tab([...bindLine(plan), `redir https://{host}:${plan.httpsPort}{uri} 308`], 1),
    '}',
    '',
  ];
}

function siteHead(plan: DeploymentPlan): string[] {
  const lines = bindLine(plan);
  const defaults = defaultTlsFor(plan.siteHost);
  // with the letsencrypt defaults Caddy obtains and renews its own certificates
  if (plan.tls.certificate !== defaults.certificate || plan.tls.key !== defaults.key) lines.push(`tls ${plan.tls.certificate} ${plan.tls.key}`);
  lines.push(`header Strict-Transport-Security "max-age=${HSTS_MAX_AGE_SECONDS}"`);
  return lines;
}

/** Caddy in front of `latchkey id` and `latchkey proxy` (or `latchkey serve` with --single). */
export function generateCaddyfile(plan: DeploymentPlan): string {
  const lines = [
    `# latchkey: Caddyfile generated by \`latchkey generate caddy\` for ${plan.siteHost}.`,
    '# Check with: caddy validate --config Caddyfile --adapter caddyfile',
    '',
    ...globalOptions(plan),
  ];
  lines.push(...redirectToHttps(plan, plan.public ? [plan.siteHost] : [plan.siteHost, plan.idHost]));
  if (plan.single) {
    lines.push(
      '# One `latchkey serve` process answers both hosts and serves the site itself.',
      `${plan.siteHost}, ${plan.idHost} {`,
      ...tab([...siteHead(plan), `reverse_proxy ${plan.serveUpstream}`], 1),
      '}',
    );
    return lines.join('\n') + '\n';
  }
  if (!plan.public) {
    lines.push(
      `# The identity provider (latchkey id, APP_URL=https://${plan.idHost}, TRUST_PROXY=127.0.0.1).`,
      `${plan.idHost} {`,
      ...tab([...siteHead(plan), `reverse_proxy ${plan.idUpstream}`], 1),
      '}',
      '',
    );
  }
  const body = [...siteHead(plan), `root * ${plan.siteRoot}`, 'encode gzip', ...hiddenMatcher(plan)];
  if (plan.public) {
    body.push('# Rollback: no authentication at all; everything under the site root is public (but dotfiles).', 'route {', ...tab([...refuseHidden, 'file_server'], 1), '}');
  } else {
    const rules = plan.protectedPrefixes;
    rules.forEach((rule, i) => body.push(...matcher(rule, i + 1, rules)));
    rules.forEach((rule, i) => body.push(`header @protected${i + 1} Cache-Control "private, no-store"`));
    body.push(
      '',
      '# route {} keeps this order: the proxy\'s endpoints, the auth checks, then the files.',
      'route {',
      ...tab([...refuseHidden, `reverse_proxy /oauth2/* ${proxyAddress(plan)}`, ...rules.flatMap((rule, i) => forwardAuth(plan, rule, i + 1)), 'file_server'], 1),
      '}',
    );
  }
  lines.push(`${plan.siteHost} {`, ...tab(body, 1), '}');
  return lines.join('\n') + '\n';
}
