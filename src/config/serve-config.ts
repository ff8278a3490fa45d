import type { X509Certificate } from 'node:crypto';
import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isLoopbackHost } from '../core/net.ts';
import type { ProtectedPrefix } from '../edge/protection.ts';
import { closestName, unknownFlagProblem } from './closest-name.ts';
import { readEnv } from './env.ts';
import { type IdConfig, loadIdConfig, readTrustProxy, type TrustProxy } from './id-config.ts';
import { type ListenAddress, parseListenAddress } from './listen-address.ts';
import { ConfigError, type Env } from './problems.ts';
import { parseProtectRules } from './protect-rule.ts';
import { readTlsPair, type TlsFiles, type TlsPair } from '../core/tls-files.ts';

// `latchkey serve` configuration: its own flags (each with a LATCHKEY_* variable), plus the
// identity provider's variables (ENCRYPTION_KEY, DB_CONNECTION_STRING, SESSION_DURATION, …), which
// mean what they mean for `latchkey id`. docs/serve.md lists them all.

export interface ServeConfig {
  /** The built site folder (absolute). */
  siteRoot: string;
  protectedPrefixes: ProtectedPrefix[];
  /** The site's public address (static files and the proxy's /oauth2/*). */
  siteUrl: URL;
  siteOrigin: string;
  /** The identity provider's public address: its issuer and the WebAuthn RP ID. */
  idUrl: URL;
  idOrigin: string;
  siteListen: ListenAddress;
  idListen: ListenAddress;
  /** Both origins on one listener (same address): requests are routed by Host. */
  sharedListener: boolean;
  /** --tls-cert/--tls-key: the files (read again when they change: core/tls-files.ts), the pair as read and checked at start. */
  tls: (TlsFiles & TlsPair & { certificate: X509Certificate }) | null;
  /** A plain-HTTP listener that redirects to https, or null. */
  httpRedirectPort: number | null;
  trustProxy: TrustProxy;
  /** The identity provider's configuration, read from the same environment. */
  id: Readonly<IdConfig>;
  /** serve's own warnings, logged at start (the provider's are in `id.warnings`). */
  warnings: string[];
}

export const SERVE_HELP = `usage: latchkey serve --site DIR [options]

Runs the identity provider, the forward-auth proxy and the static site in one process.
Each flag has an environment variable; a flag wins over its variable.

  --site DIR                  the built site folder, e.g. Hugo's public/ (required)       LATCHKEY_SITE
  --protect PREFIX[=G1,G2]    a protected path prefix, optionally only for members of     LATCHKEY_PROTECT
                              the groups listed; repeatable; longest prefix wins           (space-separated)
                              (default: /private/ for every signed-in user)
  --url URL                   the site's address (default http://localhost:8080)           LATCHKEY_URL
  --id-url URL                the identity provider's address                             LATCHKEY_ID_URL or APP_URL
                              (default: a localhost site's next port, 8081 for the
                              default --url; elsewhere https://id.<host without www.>)
  --listen HOST:PORT          where the site listens (default 127.0.0.1 for a localhost    LATCHKEY_LISTEN or HOST/PORT
                              --url, else 0.0.0.0; port from --url)
  --id-listen HOST:PORT       where the identity provider listens (default: --listen's     LATCHKEY_ID_LISTEN
                              host, --id-url's port; the same address as --listen routes
                              the two by Host)
  --data DIR                  SQLite database and, on localhost, the generated             LATCHKEY_DATA
                              encryption key (default ./data; DB_CONNECTION_STRING wins)
  --tls-cert FILE             serve https with this certificate chain (PEM)                LATCHKEY_TLS_CERT
  --tls-key FILE              … and this private key (PEM)                                 LATCHKEY_TLS_KEY
  --http-redirect-port PORT   plain-http listener redirecting to https (default 80 when    LATCHKEY_HTTP_REDIRECT_PORT
                              --url is on port 443 with --tls-cert, else off)
  --trust-proxy               believe X-Forwarded-* from a reverse proxy on this machine   TRUST_PROXY (true, false or
                              (nginx in front)                                             a list of proxy IPs/CIDRs)
  -h, --help                  show this help

The identity provider also reads ENCRYPTION_KEY(_FILE) (required unless --id-url is localhost),
DB_CONNECTION_STRING, SESSION_DURATION, APP_NAME, LOG_LEVEL, OIDC_SIGNING_ALG, REDIS_URL,
REDIS_KEY_PREFIX, METRICS_ADDRESS, AUDIT_LOG_RETENTION_DAYS and AUTHORIZE_REQUESTS_PER_MINUTE
(docs/configuration-id.md).
See docs/serve.md.`;

const FLAGS = {
  site: { type: 'string' },
  protect: { type: 'string', multiple: true },
  url: { type: 'string' },
  'id-url': { type: 'string' },
  listen: { type: 'string' },
  'id-listen': { type: 'string' },
  data: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'http-redirect-port': { type: 'string' },
  'trust-proxy': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function isServeHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

const PREFIX = 'LATCHKEY_';
/** The LATCHKEY_* variables serve reads, and the one bin/latchkey reads for the proxy. */
const KNOWN_VARIABLES = ['LATCHKEY_SITE', 'LATCHKEY_PROTECT', 'LATCHKEY_URL', 'LATCHKEY_ID_URL', 'LATCHKEY_LISTEN', 'LATCHKEY_ID_LISTEN',
  'LATCHKEY_DATA', 'LATCHKEY_TLS_CERT', 'LATCHKEY_TLS_KEY', 'LATCHKEY_HTTP_REDIRECT_PORT', 'LATCHKEY_PROXY_OPTIMIZE'];

/**
 * A misspelled variable would be ignored, and LATCHKEY_PROTECTED=/members/ would leave /members/
 * public: near misses of a known name are refused with the name meant (as `latchkey proxy`
 * refuses an unknown OAUTH2_PROXY_* variable). Other LATCHKEY_* names (latchkey's own test
 * harness sets LATCHKEY_TEST…) are left alone.
 */
function refuseUnknownVariables(env: Env, problems: string[]): void {
  for (const name of Object.keys(env)) {
    if (!name.startsWith(PREFIX) || KNOWN_VARIABLES.includes(name)) continue;
    // compared without the shared prefix, which would make every LATCHKEY_ name look near
    const meant = closestName(name.slice(PREFIX.length), KNOWN_VARIABLES.map((known) => known.slice(PREFIX.length)));
    if (meant) problems.push(`${name}: not a latchkey serve variable; did you mean ${PREFIX}${meant}? (latchkey serve --help lists them all)`);
  }
}

/** Reads `latchkey serve`'s flags and environment; throws one ConfigError listing every problem. */
export function loadServeConfig(input: { argv: string[]; env: Env }): Readonly<ServeConfig> {
  const { env } = input;
  const problems: string[] = [];
  const flags = readServeFlags(input.argv, problems);
  const text = (flag: keyof typeof FLAGS, variable: string): string | undefined => {
    const value = flags[flag];
    return typeof value === 'string' ? value.trim() : readEnv(env, variable, problems);
  };

  refuseUnknownVariables(env, problems);
  const siteRoot = readSiteRoot(text('site', 'LATCHKEY_SITE'), problems);
  const protectTexts = (flags.protect as string[] | undefined) ?? readEnv(env, 'LATCHKEY_PROTECT', problems)?.split(/\s+/).filter(Boolean) ?? ['/private/'];
  const protectedPrefixes = parseProtectRules(protectTexts, '--protect', problems);

  const siteUrlText = text('url', 'LATCHKEY_URL') ?? 'http://localhost:8080';
  const siteUrl = readOrigin(siteUrlText, '--url', problems);
  const idUrlText = text('id-url', 'LATCHKEY_ID_URL') ?? readEnv(env, 'APP_URL', problems) ?? (siteUrl ? defaultIdUrl(siteUrl) : undefined);
  const idUrl = idUrlText === undefined ? null : readOrigin(idUrlText, '--id-url', problems);

  const tlsHostnames = [siteUrl, idUrl].filter((url): url is URL => url !== null).map((url) => url.hostname);
  const tls = readTls(text('tls-cert', 'LATCHKEY_TLS_CERT'), text('tls-key', 'LATCHKEY_TLS_KEY'), tlsHostnames, problems);
  for (const [url, flag] of [[siteUrl, '--url'], [idUrl, '--id-url']] as const) {
    if (url && tls && url.protocol !== 'https:') problems.push(`${flag}: must be https:// when --tls-cert is given, got ${url.origin}`);
  }

  // A localhost site listens on loopback only, also when just PORT is set (a container sets HOST too).
  const defaultHost = siteUrl && isLoopbackHost(siteUrl.hostname) ? '127.0.0.1' : '0.0.0.0';
  const listenText = text('listen', 'LATCHKEY_LISTEN');
  // HOST and PORT (or their _FILE forms) only stand in for --listen, so they are read only without it
  const envListen = listenText === undefined ? listenFromHostAndPort(env, defaultHost, portOf(siteUrl), problems) : undefined;
  const siteListen = readListen(listenText ?? envListen, listenText === undefined ? 'HOST and PORT' : '--listen', problems)
    ?? { host: defaultHost, port: portOf(siteUrl) };
  const sameUrlPort = siteUrl && idUrl && portOf(siteUrl) === portOf(idUrl);
  const idListen = readListen(text('id-listen', 'LATCHKEY_ID_LISTEN'), '--id-listen', problems)
    ?? (sameUrlPort ? siteListen : { host: siteListen.host, port: portOf(idUrl) });
  // Port 0 means "any free port" for each listener, never one shared port.
  const sharedListener = siteListen.host === idListen.host && siteListen.port === idListen.port && siteListen.port !== 0;

  if (siteUrl && idUrl) {
    if (siteUrl.origin === idUrl.origin) problems.push(`--id-url: must differ from --url (${siteUrl.origin}); give the identity provider its own port or host name`);
    else if (sharedListener && siteUrl.hostname === idUrl.hostname)
      problems.push(`--id-url: ${idUrl.origin} and --url ${siteUrl.origin} share a host name, so they need different listen ports (--listen, --id-listen)`);
  }

  const redirectText = text('http-redirect-port', 'LATCHKEY_HTTP_REDIRECT_PORT');
  let httpRedirectPort: number | null = tls && siteUrl && portOf(siteUrl) === 443 ? 80 : null;
  if (redirectText !== undefined) {
    httpRedirectPort = readPortNumber(redirectText, '--http-redirect-port', problems);
    if (!tls) problems.push('--http-redirect-port: only with --tls-cert and --tls-key (otherwise the site is plain http already)');
  }

  const trustProxy: TrustProxy = flags['trust-proxy'] === true ? ['127.0.0.1', '::1'] : readTrustProxy(env, problems);

  const dataDir = text('data', 'LATCHKEY_DATA');
  const idEnv: Record<string, string | undefined> = {
    ...env,
    // An unusable id URL as given (or the site's, which it derives from): its host name decides
    // whether the provider requires ENCRYPTION_KEY.
    APP_URL: idUrl?.origin ?? idUrlText ?? siteUrlText,
    PUBLIC_APP_URL: undefined,
    HOST: idListen.host,
    PORT: String(idListen.port),
    TRUST_PROXY: trustProxy === false ? 'false' : trustProxy === true ? 'true' : trustProxy.join(','),
  };
  // What serve decided replaces the variable in either form: a NAME_FILE left beside the NAME set
  // here would read as both set (APP_URL_FILE was read above, as APP_URL is; PUBLIC_APP_URL in
  // neither form, as serve does not read it).
  for (const name of ['APP_URL', 'PUBLIC_APP_URL', 'HOST', 'PORT', 'TRUST_PROXY']) idEnv[`${name}_FILE`] = undefined;
  if (dataDir !== undefined) {
    idEnv.DATA_DIR = dataDir;
    idEnv.DATA_DIR_FILE = undefined;
    idEnv.DB_CONNECTION_STRING = env.DB_CONNECTION_STRING || env.DB_CONNECTION_STRING_FILE ? env.DB_CONNECTION_STRING : join(dataDir, 'latchkey.db');
  }
  let id: Readonly<IdConfig> | null = null;
  // The provider's variables are checked even when the id URL is unusable, so that one run lists
  // every problem; the provider does not repeat ours about the URL under APP_URL.
  try {
    id = loadIdConfig({ env: idEnv, appUrlRefused: !idUrl, serve: true, createsKey: true });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // TRUST_PROXY is read by both, and passed on as read: its problem is reported once.
    problems.push(...error.problems.filter((problem) => !problems.includes(problem)));
  }

  if (problems.length || !siteRoot || !siteUrl || !idUrl || !id) throw new ConfigError(problems);
  const warnings = [anyPeerTrustWarning(env, trustProxy, [siteListen, idListen])].filter((w): w is string => w !== null);
  return Object.freeze({
    siteRoot, protectedPrefixes, siteUrl, siteOrigin: siteUrl.origin, idUrl, idOrigin: idUrl.origin,
    siteListen, idListen, sharedListener, tls, httpRedirectPort, trustProxy, id, warnings,
  });
}

/**
 * TRUST_PROXY=true (from the environment; --trust-proxy is loopback only) believes X-Forwarded-For
 * from any peer: safe only while nothing but the reverse proxy reaches serve's ports. latchkey id
 * warns the same way about its HOST (id-config.ts, anyPeerTrustFinding).
 */
function anyPeerTrustWarning(env: Env, trustProxy: TrustProxy, listeners: ListenAddress[]): string | null {
  if (trustProxy !== true) return null;
  const open = [...new Set(listeners.filter((l) => !isLoopbackHost(l.host.replace(/^\[(.*)\]$/, '$1'))).map((l) => `${l.host.includes(':') && !l.host.startsWith('[') ? `[${l.host}]` : l.host}:${l.port}`))];
  if (!open.length) return null;
  // as set, in either form (its problems were reported when it was read)
  const value = readEnv(env, 'TRUST_PROXY', []) ?? 'true';
  return `TRUST_PROXY=${value} believes X-Forwarded-For from any peer, and latchkey serve listens on ${open.join(' and ')}: anyone who reaches ${open.length > 1 ? 'them' : 'it'} directly chooses the client address the audit log and the sign-in rate limits see. Fix: --listen 127.0.0.1:PORT when the reverse proxy runs on this machine (with --trust-proxy, which believes 127.0.0.1 and ::1 only, instead of TRUST_PROXY); or TRUST_PROXY set to the proxy's address instead of ${value}.`;
}

type ServeFlags = Partial<Record<keyof typeof FLAGS, string | string[] | boolean>>;

/**
 * The flags that parse, with a problem for each that does not. Not strict: strict parsing stops
 * at the first unknown flag, and then every flag given would be reported missing as well.
 */
function readServeFlags(argv: string[], problems: string[]): ServeFlags {
  const { tokens } = parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: false, tokens: true });
  const flags: Record<string, string | string[] | boolean> = {};
  let valueOfUnknown = false;
  for (const token of tokens) {
    if (token.kind === 'positional') {
      // `--sit public`: the unknown flag was reported; its value need not be reported again
      if (!valueOfUnknown) problems.push(`unexpected argument "${token.value}" (flags take the form --name VALUE)`);
      valueOfUnknown = false;
      continue;
    }
    valueOfUnknown = false;
    if (token.kind !== 'option') continue;
    const spec = Object.hasOwn(FLAGS, token.name) ? FLAGS[token.name as keyof typeof FLAGS] : null;
    if (!spec) {
      problems.push(token.rawName.startsWith('--') ? unknownFlagProblem(token.name, Object.keys(FLAGS), 'serve') : `${token.rawName}: unknown option (latchkey serve --help lists them all)`);
      valueOfUnknown = token.value === undefined;
      continue;
    }
    if (spec.type === 'boolean') {
      if (token.value !== undefined) problems.push(`${token.rawName}: takes no value, got "${token.value}"`);
      else flags[token.name] = true;
      continue;
    }
    // Without strict parsing `--site --protect /p/` would read "--protect" as the site folder.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
      problems.push(`${token.rawName}: needs a value (${token.rawName} VALUE, or ${token.rawName}=VALUE when it starts with -)`);
      continue;
    }
    if ('multiple' in spec && spec.multiple) flags[token.name] = [...((flags[token.name] as string[] | undefined) ?? []), token.value];
    else flags[token.name] = token.value;
  }
  return flags as ServeFlags;
}

/** HOST and PORT, in either form, as a --listen address; undefined when neither is set. */
function listenFromHostAndPort(env: Env, defaultHost: string, defaultPort: number, problems: string[]): string | undefined {
  const host = readEnv(env, 'HOST', problems);
  const port = readEnv(env, 'PORT', problems);
  if (!host && !port) return undefined;
  // an IPv6 HOST (::, ::1) is written in brackets, as --listen takes it
  return `${host && isIP(host) === 6 ? `[${host}]` : host || defaultHost}:${port || defaultPort}`;
}

const portOf = (url: URL | null): number => (url?.port ? Number(url.port) : url?.protocol === 'https:' ? 443 : 80);

/** Next to a localhost site: the next port (cookies and RP ID stay simple). Elsewhere: id.<site host>. */
function defaultIdUrl(siteUrl: URL): string {
  if (isLoopbackHost(siteUrl.hostname)) return `${siteUrl.protocol}//${siteUrl.hostname}:${portOf(siteUrl) + 1}`;
  return `${siteUrl.protocol}//id.${siteUrl.hostname.replace(/^www\./, '')}${siteUrl.port ? `:${siteUrl.port}` : ''}`;
}

function readSiteRoot(text: string | undefined, problems: string[]): string | null {
  if (text === undefined) {
    problems.push('--site: required: the built site folder to serve, e.g. --site public (Hugo\'s output)');
    return null;
  }
  const root = resolve(text);
  try {
    if (statSync(root).isDirectory()) return root;
    problems.push(`--site: ${text} is not a folder`);
  } catch {
    problems.push(`--site: ${text} does not exist (build the site first, e.g. hugo --destination ${text})`);
  }
  return null;
}

/** An origin browsers open: http(s), no path; plain http only for this machine (cookies and passkeys need https). */
function readOrigin(text: string, flag: string, problems: string[]): URL | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push(`${flag}: "${text}" is not a URL; write it as browsers open it, e.g. https://example.com`);
    return null;
  }
  const before = problems.length;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`${flag}: must start with https:// (or http:// for localhost), got ${url.protocol}`);
  else if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) problems.push(`${flag}: must be https (http only for localhost), got ${text}; use https://${url.host}`);
  if (/^\[?[\d.:]+\]?$/.test(url.hostname)) problems.push(`${flag}: passkeys cannot use an IP address; use a host name (http://localhost for local use)`);
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password)
    problems.push(`${flag}: must be an origin with no path, query or credentials, e.g. ${url.origin}`);
  return problems.length === before ? url : null;
}

function readListen(text: string | undefined, flag: string, problems: string[]): ListenAddress | null {
  if (text === undefined) return null;
  const parsed = parseListenAddress(text);
  if ('problem' in parsed) {
    problems.push(`${flag}: ${parsed.problem}`);
    return null;
  }
  return parsed;
}

function readPortNumber(text: string, flag: string, problems: string[]): number | null {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    problems.push(`${flag}: expected a port from 1 to 65535, got "${text}"`);
    return null;
  }
  return port;
}

function readTls(certPath: string | undefined, keyPath: string | undefined, hostnames: string[], problems: string[]): ServeConfig['tls'] {
  if (certPath === undefined && keyPath === undefined) return null;
  if (certPath === undefined || keyPath === undefined) {
    problems.push(`--tls-cert and --tls-key: give both (got only ${certPath === undefined ? '--tls-key' : '--tls-cert'})`);
    return null;
  }
  const read = readTlsPair({ certPath, keyPath }, hostnames, Date.now());
  if (!read.ok) {
    problems.push(...read.problems);
    return null;
  }
  return { certPath, keyPath, ...read.pair, certificate: read.certificate };
}
