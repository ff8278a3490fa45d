// oauth2-proxy v7 options that latchkey knows by name but does not implement. Each is refused with
// "not supported by latchkey" and, where there is one, what to do instead: silently ignoring an
// option would leave a deployment believing it has a protection (or a bypass) that is not there.
// A value that states what latchkey does anyway is accepted, since then the option says the
// truth: a switch's one setting (`alwaysIs`: pass_host_header = true, say), oauth2-proxy's default
// of a value that changes nothing here (`accepts`: real_client_ip_header = "X-Real-IP"), or any
// value of an option that does nothing without another one latchkey refuses (https_address without
// a certificate). Every other value is refused.
// Names, TOML keys and value kinds are oauth2-proxy's (pkg/apis/options, v7.x).
import { parseBool } from './env.ts';

export interface UnsupportedProxyOption {
  flag: string;
  /** oauth2-proxy's TOML key(s), when not the flag with underscores. */
  toml?: string[];
  /** A bare `--flag` is a complete option (pflag booleans); otherwise it takes a value. */
  bool?: boolean;
  /** For a switch: the setting latchkey always behaves as; giving exactly that is accepted. */
  alwaysIs?: boolean;
  /** Values that change nothing in latchkey, so are accepted (oauth2-proxy's default spelt out), or 'any'. */
  accepts?: readonly string[] | 'any';
  /** `accepts` compares without case (header names). */
  ignoreCase?: boolean;
  /** Accepted only while none of these (refused) options is given as well; with one, refused too. */
  unlessGivenWith?: readonly string[];
  /** Logged at start when the option is accepted: what latchkey does with it. */
  note?: string;
  hint?: string;
}

const PROVIDER_ONLY = 'latchkey speaks only --provider=oidc';
const DISCOVERY = 'latchkey always uses OIDC discovery; if the issuer is reachable from here at another address, set --oidc-internal-url';
const TLS_FRONT = 'terminate TLS in nginx or Caddy in front of latchkey';
const CA_TRUST = 'trust a private CA with NODE_EXTRA_CA_CERTS=/path/ca.pem instead';
const LOGGING = 'latchkey\'s logging is set with --log-level only';
const PASSKEYS_ONLY = 'latchkey signs people in with passkeys through the identity provider only';
const NO_TEMPLATES = 'latchkey\'s pages are built in';
const UPSTREAM_PROXYING = 'latchkey\'s upstream proxying is not tunable beyond --upstream-timeout and --proxy-websockets';
const REDIS_URL = 'put everything in --redis-connection-url (redis://user:password@host:port/db)';
const ONE_REDIS = 'latchkey talks to one Redis server, the one --redis-connection-url names (Sentinel and Cluster are not supported)';
const NO_BASIC_AUTH = 'latchkey never sends Authorization: Basic; it always sends the X-Forwarded-User, -Email, -Groups and -Preferred-Username headers, and --set-authorization-header or --pass-authorization-header send the ID token as a Bearer token';

const u = (flag: string, extra: Omit<UnsupportedProxyOption, 'flag'> = {}): UnsupportedProxyOption => ({ flag, ...extra });

export const UNSUPPORTED_PROXY_OPTIONS: readonly UnsupportedProxyOption[] = [
  // oauth2-proxy's own command-line switches
  u('alpha-config', { hint: 'use the flat TOML file with --config' }),
  u('convert-config-to-alpha', { bool: true }),
  u('version', { bool: true, hint: 'run `latchkey version`' }),
  u('config-test', { bool: true, hint: 'run `latchkey doctor`' }),

  // provider choice and provider-specific options
  u('acr-values'), u('auth-request-response-mode'),
  // oauth2-proxy sends approval_prompt=force when no --prompt is set; OpenID Connect providers ignore it (RFC 6749 §3.1)
  u('approval-prompt', { accepts: ['force'], hint: 'use --prompt' }),
  u('azure-tenant', { hint: PROVIDER_ONLY }), u('azure-graph-group-field', { hint: PROVIDER_ONLY }),
  u('entra-id-allowed-tenant', { toml: ['entra_id_allowed_tenants'], hint: PROVIDER_ONLY }),
  u('entra-id-federated-token-auth', { bool: true, hint: PROVIDER_ONLY }),
  u('bitbucket-team', { hint: PROVIDER_ONLY }), u('bitbucket-repository', { hint: PROVIDER_ONLY }),
  u('github-org', { hint: PROVIDER_ONLY }), u('github-team', { hint: PROVIDER_ONLY }), u('github-repo', { hint: PROVIDER_ONLY }),
  u('github-token', { hint: PROVIDER_ONLY }), u('github-user', { toml: ['github_users'], hint: PROVIDER_ONLY }),
  u('gitlab-group', { toml: ['gitlab_groups'], hint: PROVIDER_ONLY }), u('gitlab-project', { toml: ['gitlab_projects'], hint: PROVIDER_ONLY }),
  u('google-group', { toml: ['google_group', 'google_groups'], hint: PROVIDER_ONLY }),
  u('google-admin-email', { hint: PROVIDER_ONLY }), u('google-service-account-json', { hint: PROVIDER_ONLY }),
  u('google-use-application-default-credentials', { hint: PROVIDER_ONLY }), u('google-target-principal', { hint: PROVIDER_ONLY }),
  u('google-use-organization-id', { hint: PROVIDER_ONLY }), u('google-admin-api-user-scope', { hint: PROVIDER_ONLY }),
  u('keycloak-group', { toml: ['keycloak_groups'], hint: 'use --allowed-group' }),
  u('allowed-role', { toml: ['allowed_roles'], hint: 'use --allowed-group' }),
  u('provider-display-name'), u('resource'), u('jwt-key', { hint: PROVIDER_ONLY }), u('jwt-key-file', { hint: PROVIDER_ONLY }),
  u('pubjwk-url', { hint: PROVIDER_ONLY }),
  // the deprecated name of --oidc-email-claim, whose default it is
  u('user-id-claim', { accepts: ['email'], hint: 'use --oidc-email-claim' }),

  // endpoints configured by hand instead of discovered
  u('skip-oidc-discovery', { bool: true, alwaysIs: false, hint: DISCOVERY }), u('login-url', { hint: DISCOVERY }), u('redeem-url', { hint: DISCOVERY }),
  u('oidc-jwks-url', { hint: DISCOVERY }), u('profile-url', { hint: DISCOVERY }), u('validate-url', { hint: DISCOVERY }),
  u('skip-claims-from-profile-url', { bool: true, hint: 'latchkey reads claims from the ID token' }),
  u('backend-logout-url'),

  // weakening token checks
  u('insecure-oidc-skip-issuer-verification', { bool: true, alwaysIs: false, hint: 'latchkey does not turn the issuer check off' }),
  u('insecure-oidc-skip-nonce', { bool: true, alwaysIs: false, hint: 'latchkey does not turn the nonce check off' }),
  u('oidc-audience-claim', { toml: ['oidc_audience_claims'], hint: 'the audience must be --client-id' }),
  u('oidc-extra-audience', { toml: ['oidc_extra_audiences'], hint: 'the audience must be --client-id' }),
  u('oidc-public-key-file', { toml: ['oidc_public_key_files'], hint: DISCOVERY }),
  u('oidc-enabled-signing-alg', { toml: ['oidc_enabled_signing_algs'] }),
  u('force-code-challenge-method', { hint: 'PKCE S256 is always used; see --code-challenge-method' }),
  u('ssl-insecure-skip-verify', { bool: true, alwaysIs: false, hint: CA_TRUST }),
  u('provider-ca-file', { toml: ['provider_ca_files'], hint: CA_TRUST }),
  u('use-system-trust-store', { bool: true, hint: CA_TRUST }),
  u('skip-jwt-bearer-tokens', { bool: true, alwaysIs: false, hint: 'only sessions started by a sign-in are accepted, never bearer tokens' }),
  u('bearer-token-login-fallback', { bool: true, hint: 'bearer tokens are not accepted' }),
  u('extra-jwt-issuers', { hint: 'bearer tokens are not accepted' }),

  // other ways in
  u('htpasswd-file', { hint: PASSKEYS_ONLY }), u('htpasswd-user-group', { toml: ['htpasswd_user_groups'], hint: PASSKEYS_ONLY }),
  u('display-htpasswd-form', { bool: true, hint: PASSKEYS_ONLY }),
  u('basic-auth-password', { hint: NO_BASIC_AUTH }),
  // Without a password (refused above), oauth2-proxy's --pass-basic-auth sends only the user headers latchkey always sends.
  u('pass-basic-auth', { bool: true, accepts: 'any' }),
  u('set-basic-auth', { bool: true, alwaysIs: false, hint: NO_BASIC_AUTH }),
  u('prefer-email-to-user', { bool: true, alwaysIs: false, hint: 'X-Forwarded-User is always the subject (sub) and X-Forwarded-Email the email; an application that wants the email as its user name can read X-Forwarded-Email' }),
  u('pass-user-headers', { bool: true, alwaysIs: true, hint: 'X-Forwarded-User, -Email, -Groups and -Preferred-Username are always sent' }),
  u('trusted-ip', { toml: ['trusted_ips'], hint: 'skipping sign-in by client address is not supported; use --skip-auth-route for public paths' }),
  u('skip-auth-preflight', { bool: true, hint: 'use --skip-auth-route=OPTIONS=^/' }),
  u('api-route', { toml: ['api_routes'], hint: 'a request whose Accept header lists application/json already gets 401 instead of the sign-in page, on every path, and /oauth2/auth always answers 401' }),
  u('skip-auth-strip-headers', { bool: true, alwaysIs: true, hint: 'latchkey does not make this configurable' }),
  u('signature-key'),

  // redirects and requests
  u('relative-redirect-url', { bool: true, hint: 'give --redirect-url as an absolute URL or as a path (/oauth2/callback), or leave it unset' }),
  // oauth2-proxy reads the client's address from it for its logs and --trusted-ip, neither of which latchkey has
  u('real-client-ip-header', { accepts: ['X-Real-IP'], ignoreCase: true, hint: 'forwarded headers are believed only from --trusted-proxy-ip peers' }),
  u('force-https', { bool: true, alwaysIs: false, hint: TLS_FRONT }), u('force-json-errors', { bool: true }), u('encode-state', { bool: true }),
  u('allow-query-semicolons', { bool: true }),

  // cookies and sessions
  u('cookie-csrf-per-request-limit'), u('cookie-csrf-samesite'),
  u('session-cookie-minimal', { bool: true, alwaysIs: false }),
  u('redis-username', { hint: REDIS_URL }), u('redis-password', { hint: REDIS_URL }), u('redis-ca-path', { hint: CA_TRUST }),
  u('redis-insecure-skip-tls-verify', { bool: true, hint: CA_TRUST }),
  u('redis-use-sentinel', { bool: true, alwaysIs: false, hint: ONE_REDIS }), u('redis-sentinel-password', { hint: ONE_REDIS }),
  u('redis-sentinel-master-name', { hint: ONE_REDIS }), u('redis-sentinel-connection-urls', { hint: ONE_REDIS }),
  u('redis-use-cluster', { bool: true, alwaysIs: false, hint: ONE_REDIS }), u('redis-cluster-connection-urls', { hint: ONE_REDIS }),
  u('redis-connection-idle-timeout'),

  // upstream proxying knobs
  u('flush-interval', { hint: UPSTREAM_PROXYING }), u('pass-host-header', { bool: true, alwaysIs: true, hint: UPSTREAM_PROXYING }),
  u('ssl-upstream-insecure-skip-verify', { bool: true, alwaysIs: false, hint: CA_TRUST }),
  u('disable-keep-alives', { bool: true, alwaysIs: false, hint: UPSTREAM_PROXYING }),

  // listening
  // oauth2-proxy turns its HTTPS server off when neither file is set (legacy_options.go LegacyServer.convert)
  u('https-address', {
    accepts: 'any', unlessGivenWith: ['tls-cert-file', 'tls-key-file'], hint: TLS_FRONT,
    note: '--https-address is ignored: without --tls-cert-file and --tls-key-file oauth2-proxy serves no HTTPS either; latchkey listens on --http-address only',
  }),
  u('tls-cert-file', { hint: TLS_FRONT }), u('tls-key-file', { hint: TLS_FRONT }),
  u('tls-min-version', { hint: TLS_FRONT }), u('tls-cipher-suite', { toml: ['tls_cipher_suites'], hint: TLS_FRONT }),
  u('metrics-secure-address', { hint: TLS_FRONT }), u('metrics-tls-cert-file', { hint: TLS_FRONT }), u('metrics-tls-key-file', { hint: TLS_FRONT }),
  u('ping-user-agent'), u('gcp-healthchecks', { bool: true, alwaysIs: false }),

  // logging
  u('auth-logging', { bool: true, hint: LOGGING }), u('auth-logging-format', { hint: LOGGING }),
  u('request-logging', { bool: true, alwaysIs: false, hint: 'latchkey writes no line per request (nginx\'s or Caddy\'s access log has them); its logging is set with --log-level' }), u('request-logging-format', { hint: LOGGING }),
  u('standard-logging', { bool: true, hint: LOGGING }), u('standard-logging-format', { hint: LOGGING }),
  u('errors-to-info-log', { bool: true, hint: LOGGING }), u('exclude-logging-path', { toml: ['exclude_logging_paths'], hint: LOGGING }),
  u('silence-ping-logging', { bool: true, hint: LOGGING }), u('request-id-header', { hint: LOGGING }),
  u('logging-filename', { hint: LOGGING }), u('logging-max-size', { hint: LOGGING }), u('logging-max-age', { hint: LOGGING }),
  u('logging-max-backups', { hint: LOGGING }), u('logging-compress', { bool: true, hint: LOGGING }),
  u('logging-local-time', { bool: true, hint: LOGGING }),

  // page templates
  u('custom-templates-dir', { hint: NO_TEMPLATES }), u('custom-sign-in-logo', { hint: NO_TEMPLATES }),
  u('banner', { hint: NO_TEMPLATES }), u('footer', { hint: NO_TEMPLATES }), u('show-debug-on-error', { bool: true }),
];

export const unsupportedTomlKeysOf = (option: UnsupportedProxyOption): string[] => option.toml ?? [option.flag.replaceAll('-', '_')];
export const unsupportedEnvNamesOf = (option: UnsupportedProxyOption): string[] =>
  unsupportedTomlKeysOf(option).map((key) => `OAUTH2_PROXY_${key.toUpperCase()}`);

/** Whether `value` (a TOML value, or text as written; a bare switch is `true`) is one latchkey accepts for `option`. */
function isAccepted(option: UnsupportedProxyOption, value: unknown): boolean {
  const given = typeof value === 'boolean' ? value : typeof value === 'string' && option.bool ? parseBool(value) : null;
  if (option.accepts === 'any') return !option.bool || given !== null;
  if (option.alwaysIs !== undefined) return given === option.alwaysIs;
  if (!option.accepts || typeof value !== 'string') return false;
  const text = value.trim();
  return option.accepts.some((accepted) => (option.ignoreCase ? accepted.toLowerCase() === text.toLowerCase() : accepted === text));
}

/** The refusal of an unsupported option given as `as`: what to do instead, and what latchkey would accept. */
function refusal(option: UnsupportedProxyOption, as: string): string {
  if (option.accepts === 'any') return `${as}: expected true or false`; // a switch, whichever way it is set
  const accepted = option.alwaysIs !== undefined ? ` (latchkey always works as --${option.flag}=${option.alwaysIs}, and accepts that)`
    : Array.isArray(option.accepts) ? ` (latchkey accepts ${option.accepts.map((value) => `--${option.flag}=${value}`).join(' or ')}, oauth2-proxy's default, which changes nothing here)`
    : '';
  return `${as}: not supported by latchkey${option.hint ? `; ${option.hint}` : ''}${accepted}`;
}

/**
 * The problem to report for an unsupported option given as `as` with `value` (a TOML value, or
 * text as written in a flag or variable; a bare switch is `true`), or null when latchkey accepts
 * that value (see unlessGivenWith, which settleUnsupported judges once every source is read).
 */
export function unsupportedProblem(option: UnsupportedProxyOption, as: string, value: unknown): string | null {
  return isAccepted(option, value) ? null : refusal(option, as);
}

/** The unsupported options a configuration gave, by flag: how each was written, and whether its value was accepted. */
export type UnsupportedGiven = Map<string, { as: string; accepted: boolean }>;

/** Judges one unsupported option as a source gives it: a problem, or accepted; `given` remembers it for settleUnsupported. */
export function judgeUnsupported(option: UnsupportedProxyOption, as: string, value: unknown, problems: string[], given?: UnsupportedGiven): void {
  const problem = unsupportedProblem(option, as, value);
  if (problem) problems.push(problem);
  const before = given?.get(option.flag);
  given?.set(option.flag, { as: before?.as ?? as, accepted: !problem && (before?.accepted ?? true) });
}

/**
 * Once flags, environment and file are read: an accepted option that another given option makes
 * meaningful is refused after all (--https-address with --tls-cert-file), and the others' notes
 * are returned, to be logged at start.
 */
export function settleUnsupported(given: UnsupportedGiven, problems: string[]): string[] {
  const notes: string[] = [];
  for (const [flag, { as, accepted }] of given) {
    const option = byFlag.get(flag);
    if (!option || !accepted) continue;
    if (option.unlessGivenWith?.some((other) => given.has(other))) {
      const others = option.unlessGivenWith.map((other) => `--${other}`).join(' or ');
      problems.push(`${as}: not supported by latchkey${option.hint ? `; ${option.hint}` : ''} (with ${others} oauth2-proxy would use it)`);
    } else if (option.note) notes.push(option.note);
  }
  return notes;
}

const byFlag = new Map(UNSUPPORTED_PROXY_OPTIONS.map((option) => [option.flag, option]));
const byToml = new Map(UNSUPPORTED_PROXY_OPTIONS.flatMap((option) => unsupportedTomlKeysOf(option).map((key) => [key, option] as const)));
const byEnv = new Map(UNSUPPORTED_PROXY_OPTIONS.flatMap((option) => unsupportedEnvNamesOf(option).map((name) => [name, option] as const)));

export const unsupportedByFlag = (flag: string): UnsupportedProxyOption | undefined => byFlag.get(flag);
export const unsupportedByTomlKey = (key: string): UnsupportedProxyOption | undefined => byToml.get(key);
export const unsupportedByEnvName = (name: string): UnsupportedProxyOption | undefined => byEnv.get(name);
