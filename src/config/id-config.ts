import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { isValidAppName } from '../core/app-name.ts';
import { formatDurationSeconds, parseGoDurationMs, SESSION_DURATION_RANGE_SECONDS } from '../core/duration.ts';
import { isLoopbackHost, parseAddressList } from '../core/net.ts';
import { parseBool, readEnv, readPort } from './env.ts';
import { listenHostProblem, parseListenAddress } from './listen-address.ts';
import { ConfigError, type Env } from './problems.ts';
import { isRedisUrl, REDIS_URL_FORM } from './redis-url.ts';

// `latchkey id` reads Pocket ID's variable names, so a Pocket ID deployment's environment works
// unchanged. docs/configuration-id.md lists every variable.

export type TrustProxy = false | true | string[];

/** DB_CONNECTION_STRING's default: relative, so the folder latchkey id runs in decides where it is. */
export const DEFAULT_DB_CONNECTION_STRING = 'data/latchkey.db';

export interface IdConfig {
  /** APP_URL as a URL; the issuer, the WebAuthn origin and every link come from it alone. */
  appUrl: URL;
  /** APP_URL without a trailing slash: the OIDC issuer and the WebAuthn origin. */
  origin: string;
  /** The WebAuthn relying-party ID: APP_URL's host name. */
  rpId: string;
  /** Where this process can reach itself (back-channel calls, healthcheck). */
  internalUrl: string;
  appName: string;
  host: string;
  port: number;
  trustProxy: TrustProxy;
  dbConnectionString: string;
  /** Folder for the SQLite file and, on localhost only, a generated encryption key. */
  dataDir: string;
  encryptionKey: Buffer;
  /** True when the key was generated on localhost rather than configured. */
  encryptionKeyGenerated: boolean;
  sessionDurationSeconds: number;
  signingAlg: 'RS256' | 'ES256';
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  redisUrl: string | null;
  /** REDIS_KEY_PREFIX: prepended to every key the ephemeral store writes in Redis. */
  redisKeyPrefix: string;
  metricsAddress: string | null;
  /** AUDIT_LOG_RETENTION_DAYS: the expiry sweep deletes audit entries older than this. */
  auditLogRetentionDays: number;
  /** AUTHORIZE_REQUESTS_PER_MINUTE: authorization requests one address may send a minute; 0 = no limit. */
  authorizeRequestsPerMinute: number;
  warnings: string[];
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** Validates APP_URL's shape; every problem goes into `problems` with its fix. */
export function readAppUrl(env: Env, problems: string[], warnings: string[]): URL | null {
  return readAppUrlAndHost(env, problems, warnings).url;
}

/**
 * APP_URL, and its host name even when APP_URL has problems: whether it is localhost decides
 * whether ENCRYPTION_KEY is required, and that problem belongs in the same report.
 */
function readAppUrlAndHost(env: Env, problems: string[], warnings: string[]): { url: URL | null; hostname: string | null } {
  let name = 'APP_URL';
  let text = readEnv(env, 'APP_URL', problems);
  const legacy = readEnv(env, 'PUBLIC_APP_URL', problems);
  if (text === undefined && legacy !== undefined) {
    name = 'PUBLIC_APP_URL';
    text = legacy;
    warnings.push('PUBLIC_APP_URL is deprecated (Pocket ID renamed it); set APP_URL instead');
  } else if (text !== undefined && legacy !== undefined && legacy !== text) {
    warnings.push('PUBLIC_APP_URL is ignored because APP_URL is set');
  }
  if (text === undefined) text = 'http://localhost:1411';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push(`${name}: "${text}" is not a URL; use the exact address users open, e.g. https://id.example.com`);
    return { url: null, hostname: null };
  }
  const before = problems.length;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`${name}: must start with https:// (got ${url.protocol})`);
  // WebAuthn needs a secure context: https, or http on localhost (WebAuthn §5.1.3, Secure Contexts §3.1)
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    problems.push(`${name}: passkeys need https (or http://localhost), got ${text}; use https://${url.host}`);
  // Any IPv4 or IPv6 literal (URL keeps IPv6 in brackets), hex digits included.
  if (isIP(url.hostname.replace(/^\[(.*)\]$/, '$1')))
    problems.push(`${name}: passkeys cannot use an IP address as their relying-party ID; use a host name (http://localhost for local use)`);
  if (url.pathname !== '/' || text.endsWith('/')) problems.push(`${name}: must be an origin with no path or trailing slash, e.g. ${url.origin}`);
  if (url.search || url.hash) problems.push(`${name}: must not contain a query or fragment; use ${url.origin}`);
  if (url.username || url.password) problems.push(`${name}: must not contain a user name or password`);
  return { url: problems.length === before ? url : null, hostname: url.hostname };
}

export function readTrustProxy(env: Env, problems: string[]): TrustProxy {
  const text = readEnv(env, 'TRUST_PROXY', problems);
  if (text === undefined) return false;
  // The same spellings as every other boolean variable; anything else is a list of addresses.
  const bool = parseBool(text);
  if (bool !== null) return bool;
  const entries = text.split(',').map((s) => s.trim()).filter(Boolean);
  const { problems: listProblems } = parseAddressList(entries);
  for (const p of listProblems) problems.push(`TRUST_PROXY: ${p}; use true, false or a comma-separated list of proxy IPs/CIDRs`);
  return entries;
}

/**
 * TRUST_PROXY=true believes X-Forwarded-For from whoever connects (as one proxy). That is safe only
 * while nothing but the reverse proxy reaches the port; listening beyond loopback (HOST unset is
 * every interface), anyone who reaches it directly chooses the client address the audit log and the
 * sign-in rate limits see. Worded once, for latchkey id's start and doctor's trust-proxy check
 * (`source`: where doctor read the variables).
 */
export function anyPeerTrustFinding(env: Env, source?: string): { finding: string; fix: string } | null {
  if (readTrustProxy(env, []) !== true) return null;
  // as latchkey id reads them: each variable or its _FILE form (a problem there is reported elsewhere)
  const hostSetting = readEnv(env, 'HOST', []);
  const host = hostSetting || '0.0.0.0';
  if (isLoopbackHost(host)) return null;
  const value = readEnv(env, 'TRUST_PROXY', []) ?? 'true';
  return {
    finding: `TRUST_PROXY=${value} believes X-Forwarded-For from any peer, and latchkey id listens on ${hostSetting ? `HOST=${host}` : 'every interface (HOST unset: 0.0.0.0)'}${source ? ` (${source})` : ''}: anyone who reaches port ${readEnv(env, 'PORT', []) || '1411'} directly chooses the client address the audit log and the sign-in rate limits see`,
    fix: `HOST=127.0.0.1 when the reverse proxy runs on this machine; or TRUST_PROXY set to the proxy's address instead of ${value} (TRUST_PROXY=127.0.0.1 for nginx on this machine)`,
  };
}

/** INTERNAL_APP_URL: checked at start, not first at the health check that needs it. */
function readInternalUrl(text: string | undefined, problems: string[]): string | undefined {
  if (text === undefined) return undefined;
  const url = URL.canParse(text) ? new URL(text) : null;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || url.password) {
    problems.push(`INTERNAL_APP_URL: expected an http(s):// address without query, fragment or credentials, such as http://127.0.0.1:1411, got "${text}"`);
    return undefined;
  }
  return text;
}

/**
 * ENCRYPTION_KEY, or the file a localhost key is kept in. That file is only named here: a server
 * writes it after every problem was found, so a configuration that fails leaves nothing behind.
 * Any other caller needs the file to be there (EncryptionKeyOptions).
 */
function readEncryptionKey(env: Env, appHostname: string | null, dataDir: string, options: EncryptionKeyOptions, problems: string[]): { key: Buffer } | { generateIn: string } | null {
  const before = problems.length;
  const text = readEnv(env, 'ENCRYPTION_KEY', problems);
  // set twice, or a file that cannot be read: that one problem is the one to fix
  if (problems.length > before) return null;
  if (text !== undefined) {
    // whitespace does not count: sixteen spaces are no secret
    if (Buffer.byteLength(text.replace(/\s/g, '')) < 16) problems.push('ENCRYPTION_KEY: must be at least 16 characters, not counting spaces; generate one with: openssl rand -base64 32');
    return { key: Buffer.from(text) };
  }
  // An APP_URL that is not a URL at all says nothing either way; its own problem comes first.
  if (appHostname === null) return null;
  const fix = options.createsKey ? GENERATE_KEY : options.missingKeyFix ?? USE_THE_SERVERS_KEY;
  if (!isLoopbackHost(appHostname)) {
    problems.push(`ENCRYPTION_KEY: required when APP_URL is not localhost (it encrypts the signing keys); ${fix}`);
    return null;
  }
  const file = join(dataDir, 'encryption.key');
  if (!options.createsKey && !existsSync(file)) {
    problems.push(`ENCRYPTION_KEY: not set, and there is no key file at ${resolve(file)} (latchkey id and latchkey serve make one there at their first start on localhost); ${fix}`);
    return null;
  }
  return { generateIn: file };
}

const GENERATE_KEY = 'generate one with: openssl rand -base64 32, and keep a copy apart from your backups (a backup cannot sign tokens without it)';
const USE_THE_SERVERS_KEY = 'this command uses the server\'s key and makes none: set ENCRYPTION_KEY (or ENCRYPTION_KEY_FILE) as the server has it (a server on localhost without ENCRYPTION_KEY keeps it in DATA_DIR/encryption.key, the database\'s folder: run the command with the server\'s DB_CONNECTION_STRING or DATA_DIR); on a new installation, start the server (latchkey id or latchkey serve) first';

/**
 * Who makes the key. Only the servers (`latchkey id`, `latchkey serve`, so `npm start` too): on
 * localhost without ENCRYPTION_KEY they make DATA_DIR/encryption.key at their first start, and
 * elsewhere they say how to generate a key. A command that works on their data (backup, restore,
 * the admin commands) needs that same key: it reads the file but never makes one, which would be
 * the wrong key, sitting where the right one belongs (after a refused restore, say).
 */
export interface EncryptionKeyOptions {
  /** The caller is a server: it makes the localhost key file when it is missing. */
  createsKey?: boolean;
  /** Otherwise, what to do without a key (after "ENCRYPTION_KEY: not set, and there is no key file at …;" or "required when …;"). */
  missingKeyFix?: string;
}

/** On localhost a key is kept beside the database so that `npm start` needs no setup. */
function localEncryptionKey(file: string, create: boolean): Buffer {
  if (create && !existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
  }
  return Buffer.from(readFileSync(file, 'utf8').trim());
}

/**
 * SESSION_DURATION: a Go duration ("720h"); a bare number is minutes, as in Pocket ID's settings.
 * The admin console's range applies: the console could not show or save a value outside it.
 */
function readSessionDuration(env: Env, problems: string[]): number {
  const fallbackSeconds = 720 * 3600;
  const text = readEnv(env, 'SESSION_DURATION', problems)?.trim();
  if (text === undefined) return fallbackSeconds;
  const ms = /^\d+$/.test(text) ? Number(text) * 60_000 : parseGoDurationMs(text);
  const seconds = ms === null ? null : Math.round(ms / 1000);
  const { min, max } = SESSION_DURATION_RANGE_SECONDS;
  if (seconds === null || seconds < min || seconds > max) {
    problems.push(`SESSION_DURATION: expected a duration such as 720h or 90m, from ${formatDurationSeconds(min)} to ${formatDurationSeconds(max)} (365 days), got "${text}"`);
    return fallbackSeconds;
  }
  return seconds;
}

function readAppName(env: Env, problems: string[]): string {
  const name = readEnv(env, 'APP_NAME', problems) ?? 'latchkey';
  if (!isValidAppName(name)) problems.push(`APP_NAME: expected 1–50 characters without line breaks or control characters (the admin console's rule), got ${name.length} characters`);
  return name;
}

function readHost(env: Env, problems: string[]): string {
  const host = readEnv(env, 'HOST', problems) ?? '0.0.0.0';
  const problem = listenHostProblem(host);
  if (problem) problems.push(`HOST: ${problem}`);
  return host;
}

function readRedisUrl(env: Env, problems: string[]): string | null {
  const text = readEnv(env, 'REDIS_URL', problems);
  if (text !== undefined && !isRedisUrl(text)) problems.push(`REDIS_URL: expected ${REDIS_URL_FORM}, got "${text}"`);
  return text ?? null;
}

/**
 * Pocket ID's default for AUDIT_LOG_RETENTION_DAYS. Refused recovery-code sign-ins add audit
 * entries without signing in, so the log must not keep everything forever.
 */
export const DEFAULT_AUDIT_LOG_RETENTION_DAYS = 90;

// Pocket ID takes any whole number above 0; the bound only keeps days × 86,400,000 ms exact.
function readAuditLogRetentionDays(env: Env, problems: string[]): number {
  const text = readEnv(env, 'AUDIT_LOG_RETENTION_DAYS', problems);
  if (text === undefined) return DEFAULT_AUDIT_LOG_RETENTION_DAYS;
  const days = Number(text);
  if (!/^\d+$/.test(text) || days < 1 || !Number.isSafeInteger(days * 86_400_000)) {
    problems.push(`AUDIT_LOG_RETENTION_DAYS: expected a whole number of days, at least 1, got "${text}"`);
    return DEFAULT_AUDIT_LOG_RETENTION_DAYS;
  }
  return days;
}

/**
 * AUTHORIZE_REQUESTS_PER_MINUTE's default (oidc/authorization-rate-limit.ts). Each authorization
 * request that needs a sign-in keeps an Interaction row of at most ~9 KB (the 8 KiB query bound,
 * oidc/authorization-size.ts) for 30 minutes, and the sweep removes it within 5 more. So one
 * address (an IPv4 address or an IPv6 /64) holds at most 60 × 35 = 2,100 rows, about 19 MB, where
 * the audit measured 3.8 GB from one client at 135 requests a second. A sign-in is one request (two
 * with a retry or a prompt=none check): a family or club behind one router, ten people each
 * opening three apps in the same minute, makes 30.
 */
export const DEFAULT_AUTHORIZE_REQUESTS_PER_MINUTE = 60;

function readAuthorizeRequestsPerMinute(env: Env, problems: string[]): number {
  const text = readEnv(env, 'AUTHORIZE_REQUESTS_PER_MINUTE', problems)?.trim();
  if (text === undefined) return DEFAULT_AUTHORIZE_REQUESTS_PER_MINUTE;
  if (!/^\d{1,9}$/.test(text)) {
    problems.push(`AUTHORIZE_REQUESTS_PER_MINUTE: expected a whole number of requests per minute per address (0 turns the limit off), got "${text}"`);
    return DEFAULT_AUTHORIZE_REQUESTS_PER_MINUTE;
  }
  return Number(text);
}

function readMetricsAddress(env: Env, problems: string[]): string | null {
  const text = readEnv(env, 'METRICS_ADDRESS', problems);
  if (text === undefined) return null;
  const address = parseListenAddress(text);
  if ('problem' in address) problems.push(`METRICS_ADDRESS: ${address.problem}`);
  return text;
}

/**
 * `createsKey`, `missingKeyFix`: see EncryptionKeyOptions; without them a missing localhost key
 * file is a problem, never made.
 * `appUrlRefused`: the caller has refused APP_URL already, in its own words (latchkey serve, under
 * --url or --id-url), and reports the other variables' problems with its own. APP_URL's problems are
 * not repeated, its host name still decides whether ENCRYPTION_KEY is required, and the load fails
 * (with every other problem), so nothing is generated for a configuration that fails.
 * `serve`: latchkey serve runs the provider; its listen addresses come from serve's flags, and
 * serve warns about what they expose itself.
 */
export function loadIdConfig(input: { env: Env; appUrlRefused?: boolean; serve?: boolean } & EncryptionKeyOptions): Readonly<IdConfig> {
  const { env } = input;
  const problems: string[] = [];
  const warnings: string[] = [];
  const { url: appUrl, hostname: appHostname } = readAppUrlAndHost(env, input.appUrlRefused ? [] : problems, warnings);
  const appName = readAppName(env, problems);
  const port = readPort(env, 'PORT', 1411, problems);
  const host = readHost(env, problems);
  const dbConnectionString = readEnv(env, 'DB_CONNECTION_STRING', problems) ?? DEFAULT_DB_CONNECTION_STRING;
  if (env.DB_PROVIDER) warnings.push('DB_PROVIDER is ignored (Pocket ID 2 removed it too): DB_CONNECTION_STRING alone chooses SQLite or PostgreSQL');
  const dataDir = readEnv(env, 'DATA_DIR', problems) ?? (dbConnectionString.startsWith('postgres') ? 'data' : dirname(dbConnectionString.replace(/^file:/, '')));
  const encryptionKey = readEncryptionKey(env, appHostname, dataDir, input, problems);
  const logLevel = (readEnv(env, 'LOG_LEVEL', problems) ?? 'info') as IdConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const signingAlg = (readEnv(env, 'OIDC_SIGNING_ALG', problems) ?? 'RS256') as IdConfig['signingAlg'];
  if (signingAlg !== 'RS256' && signingAlg !== 'ES256') problems.push(`OIDC_SIGNING_ALG: expected RS256 or ES256, got "${signingAlg}"`);
  const internalUrl = readInternalUrl(readEnv(env, 'INTERNAL_APP_URL', problems), problems) ?? `http://127.0.0.1:${port || 1411}`;
  const trustProxy = readTrustProxy(env, problems);
  const sessionDurationSeconds = readSessionDuration(env, problems);
  const redisUrl = readRedisUrl(env, problems);
  const redisKeyPrefix = readEnv(env, 'REDIS_KEY_PREFIX', problems) ?? 'latchkey:ephemeral:';
  const metricsAddress = readMetricsAddress(env, problems);
  const auditLogRetentionDays = readAuditLogRetentionDays(env, problems);
  const authorizeRequestsPerMinute = readAuthorizeRequestsPerMinute(env, problems);
  if (problems.length || !appUrl || !encryptionKey || input.appUrlRefused) throw new ConfigError(problems);
  // serve listens for the provider itself, on addresses of its own flags, and words this its way
  const anyPeer = input.serve ? null : anyPeerTrustFinding(env);
  if (anyPeer) warnings.push(`${anyPeer.finding}. Fix: ${anyPeer.fix}. (In a container the published port decides who reaches it: bound to 127.0.0.1 on the host, only the host does.)`);
  const generated = 'generateIn' in encryptionKey;
  if (generated) warnings.push(`ENCRYPTION_KEY is not set; using the generated key in ${encryptionKey.generateIn} (fine on localhost; set ENCRYPTION_KEY in production)`);
  return Object.freeze({
    appUrl,
    origin: appUrl.origin,
    rpId: appUrl.hostname,
    internalUrl: internalUrl.replace(/\/$/, ''),
    appName,
    host,
    port,
    trustProxy,
    dbConnectionString,
    dataDir,
    encryptionKey: generated ? localEncryptionKey(encryptionKey.generateIn, input.createsKey === true) : encryptionKey.key,
    encryptionKeyGenerated: generated,
    sessionDurationSeconds,
    signingAlg,
    logLevel,
    redisUrl,
    redisKeyPrefix,
    metricsAddress,
    auditLogRetentionDays,
    authorizeRequestsPerMinute,
    warnings,
  });
}
