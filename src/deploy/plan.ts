import { parseGoDurationMs } from '../core/duration.ts';
import { unknownFlagProblem } from '../config/closest-name.ts';
import { ConfigError } from '../config/problems.ts';
import { parseProtectRules } from '../config/protect-rule.ts';
import type { ProtectedPrefix } from '../edge/protection.ts';

// What `latchkey generate …` needs to know about a deployment. Every generator is a pure
// function of this plan, so the same flags always print the same files.

// A protected prefix means the same here as in `latchkey serve`: groups empty = any signed-in user;
// otherwise sent to the proxy as `/oauth2/auth?allowed_groups=…`.
export type { ProtectedPrefix } from '../edge/protection.ts';

/** docs/reverse-proxies.md compares the two: proxy_cache needs nothing extra, lua is faster. */
export const AUTH_CACHE_ENGINES = ['proxy_cache', 'lua'] as const;
export type AuthCacheEngine = (typeof AUTH_CACHE_ENGINES)[number];

export interface DeploymentPlan {
  /** Host name of the identity provider (`latchkey id`), e.g. id.example.com. */
  idHost: string;
  /** Host name of the static site, e.g. agents.example.com. */
  siteHost: string;
  /** One certificate whose SAN covers both host names (certbot -d site -d id). */
  tls: { certificate: string; key: string };
  /** The built site (Hugo's public/ folder) on the edge machine. */
  siteRoot: string;
  protectedPrefixes: ProtectedPrefix[];
  /** host:port where the edge reaches each latchkey process. */
  idUpstream: string;
  proxyUpstream: string;
  serveUpstream: string;
  /** Unix socket where the edge reaches latchkey proxy instead of proxyUpstream; null = TCP. */
  proxySocket: string | null;
  /** nginx caches 202 answers of /oauth2/auth this long; 0 = ask the proxy every time. */
  authCacheSeconds: number;
  /**
   * proxy_cache_path folder for that cache. Its files hold the Cookie headers they were asked for,
   * sessions included (nginx-auth-cache.ts): by default in memory (/run), which no reboot outlives.
   */
  authCachePath: string;
  /** What keeps that cache: stock nginx's proxy_cache, or a Lua shared dict (libnginx-mod-http-lua). */
  authCacheEngine: AuthCacheEngine;
  /** nginx access log carrying the signed-in user of protected requests; null = the server's log below. */
  accessLogPath: string | null;
  /**
   * nginx: the access log of every other request of the generated server blocks (nginx's default
   * file), written through a format that hides the secrets some URLs carry; null = `access_log off`.
   */
  defaultAccessLogPath: string | null;
  /**
   * nginx: the error log of the locations whose addresses carry a one-time link's token (/lc/,
   * /setup), which log only critical lines there (nginx-parts.ts secretLinkLocations).
   */
  errorLogPath: string;
  /** Address the edge binds; null = every address (production). Tests use 127.0.0.1. */
  listenAddress: string | null;
  httpsPort: number;
  httpPort: number;
  /** The proxy's session cookie (--cookie-name); its value keys the auth cache. */
  cookieName: string;
  /** OIDC client ID the proxy uses at the identity provider. */
  clientId: string;
  /** Container image for compose. */
  image: string;
  /** Where systemd units find the checkout (`npm ci` run there). */
  installDir: string;
  /** Rollback: the site with no authentication at all. */
  public: boolean;
  /** One `latchkey serve` process instead of `id` + `proxy`. */
  single: boolean;
}

export const DEFAULT_PLAN: Readonly<DeploymentPlan> = Object.freeze({
  idHost: 'id.example.com',
  siteHost: 'agents.example.com',
  tls: { certificate: '/etc/letsencrypt/live/agents.example.com/fullchain.pem', key: '/etc/letsencrypt/live/agents.example.com/privkey.pem' },
  siteRoot: '/var/www/agents',
  protectedPrefixes: [{ prefix: '/private/', allowedGroups: [] }],
  idUpstream: '127.0.0.1:1411',
  proxyUpstream: '127.0.0.1:4180',
  serveUpstream: '127.0.0.1:8080',
  proxySocket: null,
  authCacheSeconds: 0,
  authCachePath: '/run/nginx-latchkey-auth',
  authCacheEngine: 'proxy_cache',
  accessLogPath: '/var/log/nginx/latchkey-access.log',
  defaultAccessLogPath: '/var/log/nginx/access.log',
  errorLogPath: '/var/log/nginx/error.log',
  listenAddress: null,
  httpsPort: 443,
  httpPort: 80,
  cookieName: '_oauth2_proxy',
  clientId: 'latchkey-site',
  image: 'latchkey:latest',
  installDir: '/opt/latchkey',
  public: false,
  single: false,
});

/** Where certbot puts a certificate requested as `certbot certonly -d SITE -d ID`. */
/**
 * The proxy's --scope when a protected prefix admits only some groups. The edge asks the proxy
 * `/oauth2/auth?allowed_groups=…`, which it answers from the groups claim of the session; latchkey
 * id (and Pocket ID) put that claim in tokens only for the `groups` scope, which the proxy asks for
 * by itself only with its own --allowed-group. Without it every member of the group was refused.
 */
export const GROUPS_SCOPE_FLAG = '--scope=openid email profile groups';
export const needsGroupsScope = (plan: DeploymentPlan): boolean => plan.protectedPrefixes.some((rule) => rule.allowedGroups.length > 0);

export function defaultTlsFor(siteHost: string): { certificate: string; key: string } {
  const live = `/etc/letsencrypt/live/${siteHost}`;
  return { certificate: `${live}/fullchain.pem`, key: `${live}/privkey.pem` };
}

/** Builds a plan from defaults plus overrides, deriving the certificate paths from siteHost. */
export function makePlan(overrides: Partial<DeploymentPlan> = {}): DeploymentPlan {
  return {
    ...DEFAULT_PLAN,
    tls: defaultTlsFor(overrides.siteHost ?? DEFAULT_PLAN.siteHost),
    protectedPrefixes: DEFAULT_PLAN.protectedPrefixes.map((p) => ({ ...p, allowedGroups: [...p.allowedGroups] })),
    ...overrides,
  };
}

// Values end up inside nginx, Caddy, YAML and unit files; refusing anything but plain
// characters keeps a flag from injecting directives into any of them.
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const UPSTREAM = /^(?:[a-z0-9.-]+|\[[0-9a-f:]+\]):\d{1,5}$/i;
/** An IPv4 address or a bracketed IPv6 one: what a Lua cosocket can connect to without a resolver. */
export const IP_ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\])$/i;

/** An upstream's `host:port` (UPSTREAM, already checked) in its two parts; an IPv6 host keeps its brackets. */
export function hostAndPort(upstream: string): { host: string; port: string } {
  const colon = upstream.lastIndexOf(':');
  return { host: upstream.slice(0, colon), port: upstream.slice(colon + 1) };
}
const SAFE_PATH = /^\/[A-Za-z0-9._/@+-]*$/;
const COOKIE_NAME = /^[A-Za-z0-9_]+$/; // nginx can only read such a cookie as $cookie_NAME
const IMAGE = /^[a-z0-9][a-z0-9._/:@-]*$/i;
const LISTEN_ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\])$/i;
const SOCKET_PATH = /^(?=.{2,107}$)\/[A-Za-z0-9._/@+-]*[A-Za-z0-9._@+-]$/; // sun_path holds 107 bytes and a NUL

type FlagSpec = { takesValue: boolean; help: string };

export const PLAN_FLAGS: Record<string, FlagSpec> = {
  '--id-host': { takesValue: true, help: `identity provider host name (${DEFAULT_PLAN.idHost})` },
  '--site-host': { takesValue: true, help: `site host name (${DEFAULT_PLAN.siteHost})` },
  '--site-root': { takesValue: true, help: `folder of the built site (${DEFAULT_PLAN.siteRoot})` },
  '--protect': { takesValue: true, help: 'PREFIX[=group1,group2]: a protected prefix, repeatable (/private/)' },
  '--auth-cache': { takesValue: true, help: 'nginx caches allowed auth answers this long, e.g. 30s (0 = off)' },
  '--auth-cache-engine': { takesValue: true, help: 'proxy_cache (stock nginx) or lua (libnginx-mod-http-lua, faster) (proxy_cache)' },
  '--auth-cache-path': { takesValue: true, help: `folder of that cache (${DEFAULT_PLAN.authCachePath})` },
  '--tls-cert': { takesValue: true, help: 'certificate chain covering both hosts (/etc/letsencrypt/live/SITE/fullchain.pem)' },
  '--tls-key': { takesValue: true, help: 'its private key (/etc/letsencrypt/live/SITE/privkey.pem)' },
  '--id-upstream': { takesValue: true, help: `host:port of latchkey id (${DEFAULT_PLAN.idUpstream})` },
  '--proxy-upstream': { takesValue: true, help: `host:port of latchkey proxy (${DEFAULT_PLAN.proxyUpstream})` },
  '--serve-upstream': { takesValue: true, help: `host:port of latchkey serve (${DEFAULT_PLAN.serveUpstream})` },
  '--proxy-socket': { takesValue: true, help: 'reach latchkey proxy over this unix socket instead, e.g. /run/latchkey/proxy.sock (faster)' },
  '--access-log': { takesValue: true, help: `nginx access log of protected prefixes, with the signed-in user, or "off" (${DEFAULT_PLAN.accessLogPath})` },
  '--default-access-log': { takesValue: true, help: `nginx access log of every other request, link tokens and codes hidden, or "off" (${DEFAULT_PLAN.defaultAccessLogPath})` },
  '--error-log': { takesValue: true, help: `nginx error log of the one-time link and setup pages, which log only critical errors so that no token reaches it (${DEFAULT_PLAN.errorLogPath})` },
  '--listen-address': { takesValue: true, help: 'address nginx binds (all addresses)' },
  '--https-port': { takesValue: true, help: `HTTPS port (${DEFAULT_PLAN.httpsPort})` },
  '--http-port': { takesValue: true, help: `HTTP port that redirects to HTTPS (${DEFAULT_PLAN.httpPort})` },
  '--cookie-name': { takesValue: true, help: `the proxy's session cookie (${DEFAULT_PLAN.cookieName})` },
  '--client-id': { takesValue: true, help: `OIDC client ID of the proxy (${DEFAULT_PLAN.clientId})` },
  '--image': { takesValue: true, help: `container image (${DEFAULT_PLAN.image})` },
  '--install-dir': { takesValue: true, help: `latchkey checkout for systemd units (${DEFAULT_PLAN.installDir})` },
  '--public': { takesValue: false, help: 'rollback: the same site with no authentication' },
  '--single': { takesValue: false, help: 'one `latchkey serve` process instead of id + proxy' },
};

/** Splits `--flag=value` and `--flag value`; unknown flags and missing values become problems. */
function readFlags(argv: string[], problems: string[]): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const spec = Object.hasOwn(PLAN_FLAGS, name) ? PLAN_FLAGS[name] : undefined;
    if (!spec) {
      problems.push(name.startsWith('--')
        ? unknownFlagProblem(name.slice(2), Object.keys(PLAN_FLAGS).map((flag) => flag.slice(2)), 'generate')
        : `unexpected argument "${name}" (flags take the form --name VALUE)`);
      // `--bogus 1`: its value is not a second problem
      if (name.startsWith('--') && eq < 0 && i + 1 < argv.length && !argv[i + 1].startsWith('--')) i++;
      continue;
    }
    let value: string;
    if (!spec.takesValue) {
      if (eq > 0) problems.push(`${name}: takes no value`);
      value = 'true';
    } else if (eq > 0) {
      value = arg.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      value = argv[++i];
    } else {
      problems.push(`${name}: needs a value`);
      continue;
    }
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return values;
}

function parsePort(name: string, text: string, problems: string[]): number | null {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    problems.push(`${name}: expected a port from 1 to 65535, got "${text}"`);
    return null;
  }
  return port;
}

/** Reads `latchkey generate` flags; every bad flag is reported in one ConfigError. */
export function planFromArgs(argv: string[]): DeploymentPlan {
  const problems: string[] = [];
  const flags = readFlags(argv, problems);
  const last = (name: string) => flags.get(name)?.at(-1);
  const overrides: Partial<DeploymentPlan> = {};

  const check = (name: string, pattern: RegExp, what: string, apply: (value: string) => void) => {
    const value = last(name);
    if (value === undefined) return;
    if (pattern.test(value)) apply(value);
    else problems.push(`${name}: "${value}" is not ${what}`);
  };
  check('--id-host', HOST_NAME, 'a host name such as id.example.com', (v) => (overrides.idHost = v.toLowerCase()));
  check('--site-host', HOST_NAME, 'a host name such as agents.example.com', (v) => (overrides.siteHost = v.toLowerCase()));
  check('--site-root', SAFE_PATH, 'an absolute path', (v) => (overrides.siteRoot = v.replace(/(.)\/$/, '$1')));
  check('--auth-cache-path', SAFE_PATH, 'an absolute path', (v) => (overrides.authCachePath = v));
  check('--id-upstream', UPSTREAM, 'host:port', (v) => (overrides.idUpstream = v));
  check('--proxy-upstream', UPSTREAM, 'host:port', (v) => (overrides.proxyUpstream = v));
  check('--serve-upstream', UPSTREAM, 'host:port', (v) => (overrides.serveUpstream = v));
  check('--proxy-socket', SOCKET_PATH, 'an absolute path of at most 107 bytes (a unix socket\'s limit), such as /run/latchkey/proxy.sock', (v) => (overrides.proxySocket = v));
  check('--listen-address', LISTEN_ADDRESS, 'an IP address such as 127.0.0.1', (v) => (overrides.listenAddress = v));
  check('--cookie-name', COOKIE_NAME, 'a cookie name of letters, digits and _', (v) => (overrides.cookieName = v));
  check('--client-id', /^[A-Za-z0-9._-]+$/, 'a client ID of letters, digits and . _ -', (v) => (overrides.clientId = v));
  check('--image', IMAGE, 'an image name such as latchkey:latest', (v) => (overrides.image = v));
  check('--install-dir', SAFE_PATH, 'an absolute path', (v) => (overrides.installDir = v.replace(/(.)\/$/, '$1')));
  check('--error-log', SAFE_PATH, 'an absolute path', (v) => (overrides.errorLogPath = v));
  for (const [flag, field] of [['--access-log', 'accessLogPath'], ['--default-access-log', 'defaultAccessLogPath']] as const) {
    if (last(flag) === 'off') overrides[field] = null;
    else check(flag, SAFE_PATH, 'an absolute path or "off"', (v) => (overrides[field] = v));
  }

  const cert = last('--tls-cert');
  const key = last('--tls-key');
  for (const [name, value] of [['--tls-cert', cert], ['--tls-key', key]] as const)
    if (value !== undefined && !SAFE_PATH.test(value)) problems.push(`${name}: "${value}" is not an absolute path`);

  for (const [name, field] of [['--https-port', 'httpsPort'], ['--http-port', 'httpPort']] as const) {
    const text = last(name);
    if (text === undefined) continue;
    const port = parsePort(name, text, problems);
    if (port !== null) overrides[field] = port;
  }

  const cacheText = last('--auth-cache');
  if (cacheText !== undefined) {
    const ms = parseGoDurationMs(cacheText);
    if (ms === null || ms < 0 || ms % 1000 !== 0) problems.push(`--auth-cache: expected whole seconds such as 30s or 1m (0 = off), got "${cacheText}"`);
    else overrides.authCacheSeconds = ms / 1000;
  }
  const engine = last('--auth-cache-engine');
  if (engine !== undefined) {
    if (!(AUTH_CACHE_ENGINES as readonly string[]).includes(engine)) problems.push(`--auth-cache-engine: expected ${AUTH_CACHE_ENGINES.join(' or ')}, got "${engine}"`);
    else if (!overrides.authCacheSeconds) problems.push('--auth-cache-engine: there is no cache to keep; add --auth-cache, e.g. --auth-cache 30s');
    else overrides.authCacheEngine = engine as AuthCacheEngine;
  }

  const protectTexts = flags.get('--protect');
  if (protectTexts) {
    // The same reader as `latchkey serve --protect`, so both accept exactly the same rules.
    overrides.protectedPrefixes = parseProtectRules(protectTexts, '--protect', problems);
  }

  overrides.public = flags.has('--public');
  overrides.single = flags.has('--single');
  if (overrides.public && overrides.single) problems.push('--public and --single: choose one (--public is the rollback without any latchkey process)');
  if (overrides.public && protectTexts) problems.push('--public and --protect: the rollback configuration protects nothing; drop --protect');
  if (flags.has('--proxy-socket')) {
    if (flags.has('--proxy-upstream')) problems.push('--proxy-socket and --proxy-upstream: choose one way to reach latchkey proxy');
    if (overrides.single) problems.push('--proxy-socket and --single: latchkey serve listens on TCP only (--serve-upstream)');
    if (overrides.public) problems.push('--proxy-socket and --public: the rollback has no proxy to reach');
  }

  const plan = makePlan(overrides);
  // the Lua check connects to the proxy itself (nginx-lua-auth-cache.ts); a cosocket resolves a
  // name only through a `resolver` line, which nginx's upstream blocks do not need
  if (plan.authCacheSeconds && plan.authCacheEngine === 'lua' && !plan.proxySocket && !IP_ADDRESS.test(hostAndPort(plan.proxyUpstream).host))
    problems.push(`--proxy-upstream: "${plan.proxyUpstream}" names a host; the Lua auth cache (--auth-cache-engine lua) connects to latchkey proxy itself, and nginx looks up no host name for it: give an IP address (127.0.0.1:4180, [::1]:4180) or --proxy-socket`);
  if (cert !== undefined) plan.tls.certificate = cert;
  if (key !== undefined) plan.tls.key = key;
  // passkeys are bound to the identity provider's host name, and the proxy owns /oauth2/ on the site
  if (plan.idHost === plan.siteHost) problems.push(`--id-host and --site-host: both are ${plan.idHost}; the identity provider needs a host of its own`);
  if (plan.httpsPort === plan.httpPort) problems.push(`--https-port and --http-port: both are ${plan.httpPort}`);
  if (problems.length) throw new ConfigError(problems);
  return plan;
}
