// The proxy's configuration, as read by src/config/proxy-config.ts from oauth2-proxy's flags,
// OAUTH2_PROXY_* environment variables and TOML keys (flag > env > file). Frozen once read.
// Durations are in seconds; secrets are decoded bytes.

export type SameSite = 'lax' | 'strict' | 'none' | '';

export type Upstream =
  | { kind: 'static'; statusCode: number }
  | { kind: 'http'; url: URL }
  | { kind: 'file'; directory: string; path: string };

/**
 * Where `latchkey proxy` listens (--http-address): TCP; a unix socket it creates at socketPath
 * with socketMode (octal 0660 by default); or a listening socket it inherited as file descriptor
 * fd (systemd socket activation), unix or TCP.
 */
export type HttpAddress =
  | { host: string; port: number }
  | { socketPath: string; socketMode: number }
  | { fd: number };

export interface ProxyConfig {
  provider: 'oidc';
  clientId: string;
  clientSecret: string;
  /** Issuer URL exactly as configured; discovery is fetched from it. */
  oidcIssuerUrl: string;
  /** Where to fetch discovery, JWKS and tokens when it differs from what the browser uses (tests, containers); null = the issuer. */
  oidcInternalUrl: string | null;
  /**
   * --redirect-url as written: an absolute http(s) URL, or an absolute path ("/oauth2/callback",
   * one leading '/') that sign-in completes with the request's scheme and host, as oauth2-proxy
   * does; null to derive it all from the request (scheme/host + proxyPrefix + /callback).
   */
  redirectUrl: string | null;
  scopes: string[];
  prompt: string | null;
  codeChallengeMethod: 'S256' | 'plain' | null;
  insecureOidcAllowUnverifiedEmail: boolean;
  oidcEmailClaim: string;
  oidcGroupsClaim: string;

  cookie: {
    name: string;
    /** 16, 24 or 32 bytes. */
    secret: Buffer;
    secure: boolean;
    domains: string[];
    path: string;
    expireSeconds: number;
    /** 0 = never refresh. */
    refreshSeconds: number;
    sameSite: SameSite;
    httpOnly: boolean;
    csrfPerRequest: boolean;
    csrfExpireSeconds: number;
  };

  /** `*` allows every domain. */
  emailDomains: string[];
  /** Emails from --authenticated-emails-file (lower-cased) as read at start, or null when not set. */
  authenticatedEmails: ReadonlySet<string> | null;
  /** That file, read again when it changes (config/authenticated-emails-file.ts), or null. */
  authenticatedEmailsFile: string | null;
  allowedGroups: string[];

  upstreams: Upstream[];
  /** How long an http(s) upstream may take to start answering before the browser gets a 502. */
  upstreamTimeoutSeconds: number;
  skipProviderButton: boolean;
  /** Join WebSocket upgrades to http(s) upstreams (otherwise the upstream sees a plain request). */
  proxyWebsockets: boolean;
  passAuthorizationHeader: boolean;
  setAuthorizationHeader: boolean;
  passAccessToken: boolean;
  setXAuthRequest: boolean;

  reverseProxy: boolean;
  /** Peers whose X-Forwarded-* headers are believed; empty = loopback only. */
  trustedProxyIps: string[];
  /** Extra hosts allowed as redirect targets; a leading '.' allows subdomains; ':port' or ':*' allowed. */
  whitelistDomains: string[];
  /** Compiled --skip-auth-route entries: optional method plus a path regex. */
  skipAuthRoutes: { method: string | null; pathPattern: RegExp }[];

  httpAddress: HttpAddress;
  pingPath: string;
  readyPath: string;
  metricsAddress: { host: string; port: number } | null;
  sessionStoreType: 'cookie' | 'redis';
  redisConnectionUrl: string | null;
  /** Base path of the proxy's own endpoints: "/oauth2". */
  proxyPrefix: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Lines to log at start: oauth2-proxy options accepted but ignored (--https-address without a certificate). */
  warnings?: readonly string[];
}
