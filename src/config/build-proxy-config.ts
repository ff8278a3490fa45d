import { readFileSync, statSync } from 'node:fs';
import { isLoopbackHost, parseAddressList } from '../core/net.ts';
import type { ProxyConfig, Upstream } from '../proxy/config.ts';
import { readAuthenticatedEmails } from './authenticated-emails-file.ts';
import { parseHttpAddress, parseListenAddress, type ListenAddress } from './listen-address.ts';
import { parseUpstream } from './parse-upstream.ts';
import { readCookieConfig } from './proxy-cookie-config.ts';
import type { RawValues } from './proxy-raw-value.ts';
import { ProxyValues } from './proxy-values.ts';
import { isRedisUrl, REDIS_URL_FORM } from './redis-url.ts';
import { parseSkipAuthRoute } from './skip-auth-route.ts';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const PROMPTS = ['none', 'login', 'consent', 'select_account'];

/**
 * The scopes the proxy asks the provider for: --scope, else oauth2-proxy's default. Like
 * oauth2-proxy it adds "groups" itself when groups matter (--allowed-group) and no scope was
 * chosen; a --scope without it gets no groups claim. (`latchkey doctor` reads it the same way.)
 */
export function requestedScopes(scope: { text: string | undefined; set: boolean }, allowedGroups: readonly string[]): string[] {
  const scopes = (scope.text ?? 'openid email profile').split(/\s+/).filter(Boolean);
  if (!scope.set && allowedGroups.length > 0) scopes.push('groups');
  return scopes;
}

/**
 * Validates merged option values (flag > env > file > default) into the proxy's configuration.
 * Every problem goes into `problems`; the returned object is only meaningful when there are none.
 */
export function buildProxyConfigFromRaw(raw: RawValues, problems: string[]): ProxyConfig {
  const values = new ProxyValues(raw, problems);

  const provider = values.string('provider') ?? 'oidc';
  if (provider !== 'oidc') {
    values.problem('provider', `"${provider}" is not supported by latchkey; only oidc (any OpenID Connect provider: latchkey id, Pocket ID, …)`);
  }
  const clientId = values.string('client-id') ?? '';
  if (!clientId) values.problem('client-id', 'required: the client ID registered at the identity provider');

  const allowedGroups = values.list('allowed-group');
  const scopes = requestedScopes({ text: values.string('scope'), set: values.isSet('scope') }, allowedGroups);
  if (!scopes.includes('openid')) values.problem('scope', `must include openid (got "${scopes.join(' ')}")`);

  const prompt = values.string('prompt') ?? null;
  if (prompt && !prompt.split(/\s+/).every((part) => PROMPTS.includes(part))) {
    values.problem('prompt', `must be none, login, consent or select_account (OIDC Core §3.1.2.1), got "${prompt}"`);
  }

  const emailDomains = values.list('email-domain').map((domain) => domain.toLowerCase());
  // "example.com example.org" would be one domain that no address ever has: everyone refused, silently
  for (const domain of emailDomains.filter((d) => /\s/.test(d))) values.problem('email-domain', `"${domain}" is not a domain; separate several with commas or repeat the option`);
  const emailsFile = values.string('authenticated-emails-file');
  const authenticatedEmails = emailsFile === undefined ? null : readAuthenticatedEmails(emailsFile, values.label('authenticated-emails-file'), problems);
  if (emailDomains.length === 0 && emailsFile === undefined) {
    // oauth2-proxy's rule too: with neither, nobody could ever be allowed in
    values.problem('email-domain', 'set it, or --authenticated-emails-file; --email-domain=* allows every email');
  }

  const sessionStoreType = values.string('session-store-type') ?? 'cookie';
  if (sessionStoreType !== 'cookie' && sessionStoreType !== 'redis') values.problem('session-store-type', `must be cookie or redis, got "${sessionStoreType}"`);
  const redisConnectionUrl = values.string('redis-connection-url') ?? null;
  if (sessionStoreType === 'redis' && !redisConnectionUrl) values.problem('redis-connection-url', 'required with --session-store-type=redis');
  if (redisConnectionUrl && !isRedisUrl(redisConnectionUrl)) values.problem('redis-connection-url', `must be ${REDIS_URL_FORM}`);

  const logLevel = values.string('log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) values.problem('log-level', `must be ${LOG_LEVELS.join(', ')}; got "${logLevel}"`);

  return {
    provider: 'oidc',
    clientId,
    clientSecret: readClientSecret(values),
    oidcIssuerUrl: readIssuerUrl(values),
    oidcInternalUrl: readHttpUrl(values, 'oidc-internal-url'),
    redirectUrl: readRedirectUrl(values),
    scopes,
    prompt,
    codeChallengeMethod: readCodeChallengeMethod(values),
    insecureOidcAllowUnverifiedEmail: values.bool('insecure-oidc-allow-unverified-email'),
    oidcEmailClaim: requiredString(values, 'oidc-email-claim'),
    oidcGroupsClaim: requiredString(values, 'oidc-groups-claim'),
    cookie: readCookieConfig(values),
    emailDomains,
    authenticatedEmails,
    authenticatedEmailsFile: emailsFile ?? null,
    allowedGroups,
    upstreams: readUpstreams(values),
    upstreamTimeoutSeconds: values.durationSeconds('upstream-timeout', false),
    skipProviderButton: values.bool('skip-provider-button'),
    proxyWebsockets: values.bool('proxy-websockets'),
    passAuthorizationHeader: values.bool('pass-authorization-header'),
    setAuthorizationHeader: values.bool('set-authorization-header'),
    passAccessToken: values.bool('pass-access-token'),
    setXAuthRequest: values.bool('set-xauthrequest'),
    reverseProxy: values.bool('reverse-proxy'),
    trustedProxyIps: readTrustedProxyIps(values),
    whitelistDomains: readWhitelistDomains(values),
    skipAuthRoutes: readSkipAuthRoutes(values),
    httpAddress: readHttpAddress(values) ?? { host: '127.0.0.1', port: 4180 },
    pingPath: readPath(values, 'ping-path'),
    readyPath: readPath(values, 'ready-path'),
    metricsAddress: values.string('metrics-address') === undefined ? null : readAddress(values, 'metrics-address'),
    sessionStoreType: sessionStoreType === 'redis' ? 'redis' : 'cookie',
    redisConnectionUrl,
    proxyPrefix: readPath(values, 'proxy-prefix'),
    logLevel: (LOG_LEVELS as readonly string[]).includes(logLevel) ? (logLevel as ProxyConfig['logLevel']) : 'info',
  };
}

function requiredString(values: ProxyValues, flag: string): string {
  const text = values.string(flag);
  if (text === undefined) values.problem(flag, 'must not be empty');
  return text ?? '';
}

function readClientSecret(values: ProxyValues): string {
  const direct = values.string('client-secret');
  const file = values.string('client-secret-file');
  if (direct !== undefined && file !== undefined) {
    values.problem('client-secret', 'and --client-secret-file are both set; keep one');
    return '';
  }
  if (direct !== undefined) return direct;
  if (file === undefined) {
    values.problem('client-secret', 'required (or --client-secret-file): the client secret from the identity provider');
    return '';
  }
  try {
    const secret = readFileSync(file, 'utf8').trim();
    if (!secret) values.problem('client-secret-file', `${file} is empty`);
    return secret;
  } catch (error) {
    values.problem('client-secret-file', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return '';
  }
}

function readIssuerUrl(values: ProxyValues): string {
  const text = values.string('oidc-issuer-url');
  if (text === undefined) {
    values.problem('oidc-issuer-url', 'required: the identity provider\'s address, e.g. https://id.example.com');
    return '';
  }
  const url = parseHttpUrl(values, 'oidc-issuer-url', text);
  // Tokens and the session they start cross this connection; passkeys need https (or localhost) anyway
  if (url && url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    values.problem('oidc-issuer-url', `must be https (http only for localhost), got ${text}; set --oidc-internal-url for a plain-http back channel`);
  }
  if (url && (url.search || url.hash)) values.problem('oidc-issuer-url', `must not have a query or fragment, got ${text}`);
  return text;
}

function readHttpUrl(values: ProxyValues, flag: string): string | null {
  const text = values.string(flag);
  if (text === undefined) return null;
  return parseHttpUrl(values, flag, text) ? text : null;
}

/**
 * An absolute http(s) URL, or (as oauth2-proxy accepts it, pkg/validation/options.go) an absolute
 * path such as /oauth2/callback, which sign-in completes with each request's scheme and host. The
 * path must start with exactly one '/': "//host/x" and "/\\host/x" are other hosts to a browser.
 * A fragment is refused in both (RFC 6749 §3.1.2).
 */
function readRedirectUrl(values: ProxyValues): string | null {
  const text = values.string('redirect-url');
  if (text === undefined) return null;
  if (text.startsWith('/')) {
    if (/^\/[/\\]/.test(text) || /[\\#\s\u0000-\u001f\u007f]/.test(text)) {
      values.problem('redirect-url', `must be an absolute URL (https://site.example/oauth2/callback) or a path on this site (/oauth2/callback), got "${text}"`);
      return null;
    }
    return text;
  }
  const url = parseHttpUrl(values, 'redirect-url', text);
  if (url?.hash) values.problem('redirect-url', `must not have a fragment (#…), got "${text}"`);
  return url ? text : null;
}

function parseHttpUrl(values: ProxyValues, flag: string, text: string): URL | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    values.problem(flag, `"${text}" is not an absolute URL`);
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    values.problem(flag, `must be an http(s) URL, got "${text}"`);
    return null;
  }
  return url;
}

/**
 * S256 always. oauth2-proxy sends no PKCE unless asked; latchkey always does (RFC 9700 §2.1.1),
 * and refuses "plain", which protects nothing once the authorization request is seen. An empty
 * value (oauth2-proxy's "off") also means S256: a provider without PKCE ignores the parameter.
 */
function readCodeChallengeMethod(values: ProxyValues): 'S256' {
  const method = values.string('code-challenge-method') ?? 'S256';
  if (method === 'plain') values.problem('code-challenge-method', 'plain is not supported by latchkey (it offers no protection); use S256, the default');
  else if (method !== 'S256') values.problem('code-challenge-method', `must be S256, got "${method}"`);
  return 'S256';
}

// oauth2-proxy's Helm chart's default upstream, a placeholder for forward-auth deployments.
const DEV_NULL = '/dev/null';

/**
 * The --upstream list. file:///dev/null (the oauth2-proxy Helm chart's default) is a file server
 * that serves nothing: oauth2-proxy answers 404 to every signed-in request it owns, and to every
 * path no other upstream owns. Left out, it changes nothing beside another upstream; alone, it is
 * static://404, which answers every signed-in request with that 404, after the same sign-in.
 */
function readUpstreams(values: ProxyValues): Upstream[] {
  const upstreams: Upstream[] = [];
  let devNull = false;
  for (const text of values.list('upstream')) {
    const parsed = parseUpstream(text);
    if ('problem' in parsed) values.problem('upstream', parsed.problem);
    else if (parsed.kind === 'file' && parsed.directory.replace(/\/+$/, '') === DEV_NULL) devNull = true;
    else if (parsed.kind === 'file' && !isDirectory(parsed.directory)) values.problem('upstream', `"${text}": ${parsed.directory} is not a folder`);
    else upstreams.push(parsed);
  }
  if (devNull && upstreams.length === 0) upstreams.push({ kind: 'static', statusCode: 404 });
  return upstreams;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function readTrustedProxyIps(values: ProxyValues): string[] {
  const entries = values.list('trusted-proxy-ip');
  for (const problem of parseAddressList(entries).problems) values.problem('trusted-proxy-ip', problem);
  return entries;
}

function readWhitelistDomains(values: ProxyValues): string[] {
  const domains: string[] = [];
  for (const entry of values.list('whitelist-domain')) {
    // oauth2-proxy accepts both ".example.com" and "*.example.com" for "any subdomain"
    const domain = entry.toLowerCase().replace(/^\*\./, '.');
    if (!/^\.?[a-z0-9.-]+(:(\d{1,5}|\*))?$/.test(domain) || domain.includes('..')) {
      values.problem('whitelist-domain', `"${entry}" is not a host name (write example.com, .example.com, example.com:8443 or example.com:*)`);
    } else domains.push(domain);
  }
  return domains;
}

function readSkipAuthRoutes(values: ProxyValues): ProxyConfig['skipAuthRoutes'] {
  const routes: ProxyConfig['skipAuthRoutes'] = [];
  for (const entry of values.list('skip-auth-route')) {
    const route = parseSkipAuthRoute(entry);
    if ('problem' in route) values.problem('skip-auth-route', route.problem);
    else routes.push(route);
  }
  // the deprecated --skip-auth-regex: a path regex for every method, even one containing "="
  for (const entry of values.list('skip-auth-regex')) {
    const route = parseSkipAuthRoute(entry.includes('=') ? `=${entry}` : entry);
    if ('problem' in route) values.problem('skip-auth-regex', route.problem);
    else routes.push(route);
  }
  return routes;
}

function readAddress(values: ProxyValues, flag: string): ListenAddress | null {
  const text = values.string(flag);
  if (text === undefined) return null;
  const parsed = parseListenAddress(text);
  if ('problem' in parsed) {
    values.problem(flag, parsed.problem);
    return null;
  }
  return parsed;
}

function readHttpAddress(values: ProxyValues): ProxyConfig['httpAddress'] | null {
  const text = values.string('http-address');
  if (text === undefined) return null;
  const parsed = parseHttpAddress(text);
  if ('problem' in parsed) {
    values.problem('http-address', parsed.problem);
    return null;
  }
  return parsed;
}

function readPath(values: ProxyValues, flag: string): string {
  const text = values.string(flag) ?? '';
  const path = text.length > 1 ? text.replace(/\/+$/, '') : text;
  if (!path.startsWith('/') || path === '/' || /[?#\s]/.test(path)) values.problem(flag, `must be a path such as /oauth2, got "${text}"`);
  return path;
}
