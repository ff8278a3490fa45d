// Every option `latchkey proxy` understands, with oauth2-proxy v7's names: the flag, the TOML key
// (the flag with underscores; plural for repeatable options) and the environment variable
// (OAUTH2_PROXY_ + the TOML key in capitals). oauth2-proxy derives all three the same way, so a
// deployment written for it (flags, env or cfg file) reads here unchanged.

export type ProxyOptionKind = 'string' | 'secret' | 'bool' | 'list' | 'duration';

export interface ProxyOption {
  flag: string;
  kind: ProxyOptionKind;
  /** Text form of the default, as a user would write it; '' = unset. */
  defaultText: string;
  help: string;
  /** Only when it is not the flag with underscores (oauth2-proxy pluralises repeatable options). */
  toml?: string;
  /** A latchkey addition that oauth2-proxy does not have. */
  latchkeyOnly?: boolean;
  /** Not settable from a config file (the config file's own path). */
  noToml?: boolean;
  group: 'Provider' | 'Cookie' | 'Access' | 'Upstream and headers' | 'Proxy' | 'Server' | 'Session' | 'General';
}

const o = (group: ProxyOption['group'], flag: string, kind: ProxyOptionKind, defaultText: string, help: string, extra: Partial<ProxyOption> = {}): ProxyOption =>
  ({ group, flag, kind, defaultText, help, ...extra });

export const PROXY_OPTIONS: readonly ProxyOption[] = [
  o('General', 'config', 'string', '', 'path to a TOML config file (oauth2-proxy .cfg format)', { noToml: true }),
  o('General', 'log-level', 'string', 'info', 'debug, info, warn or error', { latchkeyOnly: true }),

  o('Provider', 'provider', 'string', 'oidc', 'OAuth provider; latchkey speaks only "oidc"'),
  o('Provider', 'client-id', 'string', '', 'the OAuth client ID (required)'),
  o('Provider', 'client-secret', 'secret', '', 'the OAuth client secret (this or --client-secret-file is required)'),
  o('Provider', 'client-secret-file', 'string', '', 'a file holding the OAuth client secret'),
  o('Provider', 'oidc-issuer-url', 'string', '', 'the OpenID Connect issuer URL, as browsers reach it (required)'),
  o('Provider', 'oidc-internal-url', 'string', '', 'base URL for back-channel calls (discovery, JWKS, token) when the issuer is reachable from here only at another address', { latchkeyOnly: true }),
  o('Provider', 'redirect-url', 'string', '', 'the OAuth redirect URL, e.g. https://site.example/oauth2/callback, or a path (/oauth2/callback) completed with each request\'s scheme and host; unset = derived from each request'),
  o('Provider', 'scope', 'string', 'openid email profile', 'OAuth scopes, space-separated ("groups" is added when --allowed-group is set and --scope is not)'),
  o('Provider', 'prompt', 'string', '', 'OIDC prompt parameter (e.g. login, consent); unset = none sent'),
  o('Provider', 'code-challenge-method', 'string', 'S256', 'PKCE method; latchkey always uses PKCE and accepts only S256'),
  o('Provider', 'insecure-oidc-allow-unverified-email', 'bool', 'false', 'accept an email whose email_verified claim is false (without it, only that refuses: a missing email_verified, or an --oidc-email-claim other than email, never does)'),
  o('Provider', 'oidc-email-claim', 'string', 'email', 'which claim holds the user\'s email; a dotted path (profile.mail) reaches into nested claims'),
  o('Provider', 'oidc-groups-claim', 'string', 'groups', 'which claim holds the user\'s groups (a list or one string); a dotted path (realm_access.roles) reaches into nested claims'),

  o('Cookie', 'cookie-name', 'string', '_oauth2_proxy', 'the session cookie\'s name'),
  o('Cookie', 'cookie-secret', 'secret', '', 'seed for cookie encryption: 16, 24 or 32 bytes, base64 or raw (this or --cookie-secret-file is required)'),
  o('Cookie', 'cookie-secret-file', 'string', '', 'a file holding the cookie secret'),
  o('Cookie', 'cookie-domain', 'list', '', 'domains to set cookies for (e.g. .example.com); the longest one matching the request wins', { toml: 'cookie_domains' }),
  o('Cookie', 'cookie-path', 'string', '/', 'the cookie\'s Path'),
  o('Cookie', 'cookie-expire', 'duration', '168h', 'session lifetime (from sign-in; 0, a browser-session cookie in oauth2-proxy, is refused)'),
  o('Cookie', 'cookie-refresh', 'duration', '0', 'refresh the session with the refresh token after this long; 0 = never'),
  o('Cookie', 'cookie-secure', 'bool', 'true', 'set the Secure flag (HTTPS only)'),
  o('Cookie', 'cookie-samesite', 'string', '', 'SameSite attribute: lax, strict, none or "" (not set)'),
  o('Cookie', 'cookie-httponly', 'bool', 'true', 'set the HttpOnly flag'),
  o('Cookie', 'cookie-csrf-per-request', 'bool', 'false', 'one CSRF cookie per sign-in attempt, so parallel sign-ins do not clash'),
  o('Cookie', 'cookie-csrf-expire', 'duration', '15m', 'lifetime of the CSRF cookie (how long a sign-in may take)'),

  o('Access', 'email-domain', 'list', '', 'allow emails of these domains; * allows any email', { toml: 'email_domains' }),
  o('Access', 'authenticated-emails-file', 'string', '', 'allow the emails listed in this file (one per line, # comments)'),
  o('Access', 'allowed-group', 'list', '', 'allow only members of these groups', { toml: 'allowed_groups' }),

  o('Upstream and headers', 'upstream', 'list', '', 'where signed-in requests go: static://CODE, http(s)://host[/path], file:///dir#/path (file:///dev/null serves nothing: 404)', { toml: 'upstreams' }),
  o('Upstream and headers', 'upstream-timeout', 'duration', '30s', 'how long an http(s) upstream may take to start answering (then 502)'),
  o('Upstream and headers', 'proxy-websockets', 'bool', 'true', 'join WebSocket upgrades to http(s) upstreams, after the same sign-in check'),
  o('Upstream and headers', 'skip-provider-button', 'bool', 'false', 'go straight to the identity provider instead of showing a sign-in page'),
  o('Upstream and headers', 'pass-authorization-header', 'bool', 'false', 'send Authorization: Bearer <id_token> to the upstream'),
  o('Upstream and headers', 'set-authorization-header', 'bool', 'false', 'answer /oauth2/auth with Authorization: Bearer <id_token> (nginx auth_request)'),
  o('Upstream and headers', 'pass-access-token', 'bool', 'false', 'send X-Forwarded-Access-Token to the upstream (and X-Auth-Request-Access-Token with --set-xauthrequest)'),
  o('Upstream and headers', 'set-xauthrequest', 'bool', 'false', 'answer /oauth2/auth with X-Auth-Request-User, -Email, -Groups, -Preferred-Username'),

  o('Proxy', 'reverse-proxy', 'bool', 'false', 'believe X-Forwarded-* headers from --trusted-proxy-ip peers'),
  o('Proxy', 'trusted-proxy-ip', 'list', '', 'IPs/CIDR ranges allowed to send X-Forwarded-* headers; unset = loopback only', { toml: 'trusted_proxy_ips' }),
  o('Proxy', 'whitelist-domain', 'list', '', 'extra hosts allowed as post-sign-in redirect targets (.example.com = subdomains; host:port, host:*)', { toml: 'whitelist_domains' }),
  o('Proxy', 'skip-auth-route', 'list', '', 'no sign-in for requests matching METHOD=^/regex or ^/regex', { toml: 'skip_auth_routes' }),
  o('Proxy', 'skip-auth-regex', 'list', '', 'deprecated form of --skip-auth-route: path regexes for every method'),
  o('Proxy', 'proxy-prefix', 'string', '/oauth2', 'path prefix of the proxy\'s own endpoints'),

  o('Server', 'http-address', 'string', '127.0.0.1:4180', '[http://]host:port to listen on (":4180" = every interface), unix:///path.sock[,mode=0660] or fd:3 (systemd socket activation)'),
  o('Server', 'metrics-address', 'string', '', 'host:port for Prometheus /metrics; unset = off'),
  o('Server', 'ping-path', 'string', '/ping', 'liveness endpoint'),
  o('Server', 'ready-path', 'string', '/ready', 'readiness endpoint'),

  o('Session', 'session-store-type', 'string', 'cookie', 'where sessions live: cookie or redis'),
  o('Session', 'redis-connection-url', 'string', '', 'redis://[user:password@]host[:port][/db], required with --session-store-type=redis'),
];

export const tomlKeyOf = (option: ProxyOption): string => option.toml ?? option.flag.replaceAll('-', '_');
export const envNameOf = (option: ProxyOption): string => `OAUTH2_PROXY_${tomlKeyOf(option).toUpperCase()}`;
/** How problems name an option: the flag and the environment variable, which is what people grep for. */
export const labelOf = (option: ProxyOption): string => `--${option.flag} / ${envNameOf(option)}`;

const byFlag = new Map(PROXY_OPTIONS.map((option) => [option.flag, option]));
const byToml = new Map(PROXY_OPTIONS.filter((option) => !option.noToml).map((option) => [tomlKeyOf(option), option]));
const byEnv = new Map(PROXY_OPTIONS.map((option) => [envNameOf(option), option]));

export const optionByFlag = (flag: string): ProxyOption | undefined => byFlag.get(flag);
export const optionByTomlKey = (key: string): ProxyOption | undefined => byToml.get(key);
export const optionByEnvName = (name: string): ProxyOption | undefined => byEnv.get(name);

/** The option a value is for, by flag name; throws on a name not in the table (a programming error). */
export function requireOption(flag: string): ProxyOption {
  const option = byFlag.get(flag);
  if (!option) throw new Error(`no proxy option named --${flag}`);
  return option;
}
