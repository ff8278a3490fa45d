import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { isLoopbackHost, parseAddressList } from '../core/net.ts';
import { readDurationSeconds, readEnv, readPort } from './env.ts';
import { ConfigError, type Env } from './problems.ts';

// `latchkey id` reads Pocket ID's variable names, so a Pocket ID deployment's environment works
// unchanged. docs/configuration-id.md lists every variable.

export type TrustProxy = false | true | string[];

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
  warnings: string[];
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** Validates APP_URL's shape; every problem goes into `problems` with its fix. */
export function readAppUrl(env: Env, problems: string[], warnings: string[]): URL | null {
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
    return null;
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
  return problems.length === before ? url : null;
}

export function readTrustProxy(env: Env, problems: string[]): TrustProxy {
  const text = readEnv(env, 'TRUST_PROXY', problems);
  if (text === undefined) return false;
  if (['1', 'true', 'TRUE', 'True', 't'].includes(text)) return true;
  if (['0', 'false', 'FALSE', 'False', 'f'].includes(text)) return false;
  const entries = text.split(',').map((s) => s.trim()).filter(Boolean);
  const { problems: listProblems } = parseAddressList(entries);
  for (const p of listProblems) problems.push(`TRUST_PROXY: ${p}; use true, false or a comma-separated list of proxy IPs/CIDRs`);
  return entries;
}

function readEncryptionKey(env: Env, appUrl: URL | null, dataDir: string, problems: string[], warnings: string[]) {
  const text = readEnv(env, 'ENCRYPTION_KEY', problems);
  if (text !== undefined) {
    if (Buffer.byteLength(text) < 16) problems.push('ENCRYPTION_KEY: must be at least 16 characters; generate one with: openssl rand -base64 32');
    return { key: Buffer.from(text), generated: false };
  }
  if (appUrl && !isLoopbackHost(appUrl.hostname)) {
    problems.push('ENCRYPTION_KEY: required when APP_URL is not localhost (it encrypts the signing keys); generate one with: openssl rand -base64 32, and keep it with your backups');
    return { key: Buffer.alloc(0), generated: false };
  }
  // On localhost a key is kept beside the database so that `npm start` needs no setup.
  const file = join(dataDir, 'encryption.key');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
  }
  warnings.push(`ENCRYPTION_KEY is not set; using the generated key in ${file} (fine on localhost; set ENCRYPTION_KEY in production)`);
  return { key: Buffer.from(readFileSync(file, 'utf8').trim()), generated: true };
}

/** SESSION_DURATION: a Go duration ("720h"); a bare number is minutes, as in Pocket ID's settings. */
function readSessionDuration(env: Env, problems: string[]): number {
  const text = env.SESSION_DURATION?.trim();
  if (text && /^\d+$/.test(text)) return Number(text) * 60;
  return readDurationSeconds(env, 'SESSION_DURATION', 720 * 3600, problems);
}

export function loadIdConfig(input: { env: Env }): Readonly<IdConfig> {
  const { env } = input;
  const problems: string[] = [];
  const warnings: string[] = [];
  const appUrl = readAppUrl(env, problems, warnings);
  const port = readPort(env, 'PORT', 1411, problems);
  const host = readEnv(env, 'HOST', problems) ?? '0.0.0.0';
  const dbConnectionString = readEnv(env, 'DB_CONNECTION_STRING', problems) ?? 'data/latchkey.db';
  if (env.DB_PROVIDER) warnings.push('DB_PROVIDER is ignored (Pocket ID 2 removed it too): DB_CONNECTION_STRING alone chooses SQLite or PostgreSQL');
  const dataDir = readEnv(env, 'DATA_DIR', problems) ?? (dbConnectionString.startsWith('postgres') ? 'data' : dirname(dbConnectionString.replace(/^file:/, '')));
  const { key, generated } = readEncryptionKey(env, appUrl, dataDir, problems, warnings);
  const logLevel = (readEnv(env, 'LOG_LEVEL', problems) ?? 'info') as IdConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const signingAlg = (readEnv(env, 'OIDC_SIGNING_ALG', problems) ?? 'RS256') as IdConfig['signingAlg'];
  if (signingAlg !== 'RS256' && signingAlg !== 'ES256') problems.push(`OIDC_SIGNING_ALG: expected RS256 or ES256, got "${signingAlg}"`);
  const internalUrl = readEnv(env, 'INTERNAL_APP_URL', problems) ?? `http://127.0.0.1:${port || 1411}`;
  const trustProxy = readTrustProxy(env, problems);
  const sessionDurationSeconds = readSessionDuration(env, problems);
  if (problems.length) throw new ConfigError(problems);
  const url = appUrl as URL;
  return Object.freeze({
    appUrl: url,
    origin: url.origin,
    rpId: url.hostname,
    internalUrl: internalUrl.replace(/\/$/, ''),
    appName: readEnv(env, 'APP_NAME', problems) ?? 'latchkey',
    host,
    port,
    trustProxy,
    dbConnectionString,
    dataDir,
    encryptionKey: key,
    encryptionKeyGenerated: generated,
    sessionDurationSeconds,
    signingAlg,
    logLevel,
    redisUrl: readEnv(env, 'REDIS_URL', problems) ?? null,
    redisKeyPrefix: readEnv(env, 'REDIS_KEY_PREFIX', problems) ?? 'latchkey:ephemeral:',
    metricsAddress: readEnv(env, 'METRICS_ADDRESS', problems) ?? null,
    warnings,
  });
}
