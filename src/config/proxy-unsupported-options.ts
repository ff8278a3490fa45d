// oauth2-proxy v7 options that latchkey knows by name but does not implement. Each is refused with
// "not supported by latchkey" and, where there is one, what to do instead: silently ignoring an
// option would leave a deployment believing it has a protection (or a bypass) that is not there.
// A switch whose setting latchkey always has (`alwaysIs`: pass_host_header = true, say) is
// accepted when given that value, since then it states the truth; the other value is refused.
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

const u = (flag: string, extra: Omit<UnsupportedProxyOption, 'flag'> = {}): UnsupportedProxyOption => ({ flag, ...extra });

export const UNSUPPORTED_PROXY_OPTIONS: readonly UnsupportedProxyOption[] = [
  // oauth2-proxy's own command-line switches
  u('alpha-config', { hint: 'use the flat TOML file with --config' }),
  u('convert-config-to-alpha', { bool: true }),
  u('version', { bool: true, hint: 'run `latchkey version`' }),
  u('config-test', { bool: true, hint: 'run `latchkey doctor`' }),

  // provider choice and provider-specific options
  u('acr-values'), u('approval-prompt', { hint: 'use --prompt' }), u('auth-request-response-mode'),
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
  u('pubjwk-url', { hint: PROVIDER_ONLY }), u('user-id-claim', { hint: 'use --oidc-email-claim' }),

  // endpoints configured by hand instead of discovered
  u('skip-oidc-discovery', { bool: true, hint: DISCOVERY }), u('login-url', { hint: DISCOVERY }), u('redeem-url', { hint: DISCOVERY }),
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
  u('basic-auth-password', { hint: PASSKEYS_ONLY }), u('pass-basic-auth', { bool: true, hint: PASSKEYS_ONLY }),
  u('set-basic-auth', { bool: true, hint: PASSKEYS_ONLY }), u('prefer-email-to-user', { bool: true }),
  u('pass-user-headers', { bool: true, alwaysIs: true, hint: 'X-Forwarded-User, -Email, -Groups and -Preferred-Username are always sent' }),
  u('trusted-ip', { toml: ['trusted_ips'], hint: 'skipping sign-in by client address is not supported; use --skip-auth-route for public paths' }),
  u('skip-auth-preflight', { bool: true, hint: 'use --skip-auth-route=OPTIONS=^/' }),
  u('api-route', { toml: ['api_routes'] }),
  u('skip-auth-strip-headers', { bool: true, alwaysIs: true, hint: 'latchkey does not make this configurable' }),
  u('signature-key'),

  // redirects and requests
  u('relative-redirect-url', { bool: true, hint: 'give --redirect-url as an absolute URL, or leave it unset' }),
  u('real-client-ip-header', { hint: 'forwarded headers are believed only from --trusted-proxy-ip peers' }),
  u('force-https', { bool: true, alwaysIs: false, hint: TLS_FRONT }), u('force-json-errors', { bool: true }), u('encode-state', { bool: true }),
  u('allow-query-semicolons', { bool: true }),

  // cookies and sessions
  u('cookie-csrf-per-request-limit'), u('cookie-csrf-samesite'),
  u('session-cookie-minimal', { bool: true, alwaysIs: false }),
  u('redis-username', { hint: REDIS_URL }), u('redis-password', { hint: REDIS_URL }), u('redis-ca-path', { hint: CA_TRUST }),
  u('redis-insecure-skip-tls-verify', { bool: true, hint: CA_TRUST }),
  u('redis-use-sentinel', { bool: true }), u('redis-sentinel-password'), u('redis-sentinel-master-name'), u('redis-sentinel-connection-urls'),
  u('redis-use-cluster', { bool: true }), u('redis-cluster-connection-urls'), u('redis-connection-idle-timeout'),

  // upstream proxying knobs
  u('flush-interval', { hint: UPSTREAM_PROXYING }), u('pass-host-header', { bool: true, alwaysIs: true, hint: UPSTREAM_PROXYING }),
  u('ssl-upstream-insecure-skip-verify', { bool: true, alwaysIs: false, hint: CA_TRUST }),
  u('disable-keep-alives', { bool: true, alwaysIs: false, hint: UPSTREAM_PROXYING }),

  // listening
  u('https-address', { hint: TLS_FRONT }), u('tls-cert-file', { hint: TLS_FRONT }), u('tls-key-file', { hint: TLS_FRONT }),
  u('tls-min-version', { hint: TLS_FRONT }), u('tls-cipher-suite', { toml: ['tls_cipher_suites'], hint: TLS_FRONT }),
  u('metrics-secure-address', { hint: TLS_FRONT }), u('metrics-tls-cert-file', { hint: TLS_FRONT }), u('metrics-tls-key-file', { hint: TLS_FRONT }),
  u('ping-user-agent'), u('gcp-healthchecks', { bool: true, alwaysIs: false }),

  // logging
  u('auth-logging', { bool: true, hint: LOGGING }), u('auth-logging-format', { hint: LOGGING }),
  u('request-logging', { bool: true, hint: LOGGING }), u('request-logging-format', { hint: LOGGING }),
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

/**
 * The problem to report for an unsupported option given as `as` with `value` (a TOML boolean, or
 * text as written in a flag or variable; a bare switch is `true`), or null when the value is the
 * setting latchkey always has, which makes the option harmless to accept.
 */
export function unsupportedProblem(option: UnsupportedProxyOption, as: string, value: unknown): string | null {
  const given = typeof value === 'boolean' ? value : typeof value === 'string' ? parseBool(value) : null;
  if (option.alwaysIs !== undefined && given === option.alwaysIs) return null;
  const accepted = option.alwaysIs === undefined ? '' : ` (latchkey always works as --${option.flag}=${option.alwaysIs}, and accepts that)`;
  return `${as}: not supported by latchkey${option.hint ? `; ${option.hint}` : ''}${accepted}`;
}

const byFlag = new Map(UNSUPPORTED_PROXY_OPTIONS.map((option) => [option.flag, option]));
const byToml = new Map(UNSUPPORTED_PROXY_OPTIONS.flatMap((option) => unsupportedTomlKeysOf(option).map((key) => [key, option] as const)));
const byEnv = new Map(UNSUPPORTED_PROXY_OPTIONS.flatMap((option) => unsupportedEnvNamesOf(option).map((name) => [name, option] as const)));

export const unsupportedByFlag = (flag: string): UnsupportedProxyOption | undefined => byFlag.get(flag);
export const unsupportedByTomlKey = (key: string): UnsupportedProxyOption | undefined => byToml.get(key);
export const unsupportedByEnvName = (name: string): UnsupportedProxyOption | undefined => byEnv.get(name);
