// Everything the checks may look at, gathered once from the command line: the id's environment,
// the proxy's options, the nginx and compose files, the built site, backups and the URLs of a
// running deployment. Expensive things (HTTP answers, the database) are fetched on first use and
// shared between checks.
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_DB_CONNECTION_STRING, readAppUrl, readTrustProxy, type TrustProxy } from '../config/id-config.ts';
import { ConfigError, type Env } from '../config/problems.ts';
import { loadProxyConfig } from '../config/proxy-config.ts';
import { readProxyArgv } from '../config/proxy-argv.ts';
import { readProxyConfigFile } from '../config/proxy-config-file.ts';
import { readProxyEnv } from '../config/proxy-env.ts';
import type { RawValue } from '../config/proxy-raw-value.ts';
import type { ProxyConfig } from '../proxy/config.ts';
import { isPostgresUrl, openDatabase, refuseForeignSqliteDatabase, sqlitePathOf, type Database } from '../storage/database.ts';
import type { NginxConfig } from './nginx-config.ts';
import type { Probe, ProbeAnswer } from './probe.ts';

export interface ComposeService {
  name: string;
  image: string;
  command: string[];
  environment: Record<string, string>;
  ports: string[];
  healthcheck: string[] | null;
}

export interface IdSettings {
  /** Where the variables came from: "the environment" or "compose service id". */
  source: string;
  /** The variables are a compose service's: HOST is the container's, the host's ports decide who reaches it. */
  fromCompose: boolean;
  env: Env;
  appUrl: URL | null;
  /** What readAppUrl (the id's own reader) refuses in APP_URL. */
  appUrlProblems: string[];
  trustProxy: TrustProxy;
}

export interface ProxySettings {
  source: string;
  /** Options as written (flag name → value), from flags > environment > config file. */
  raw: ReadonlyMap<string, RawValue>;
  /** The loaded configuration, or null when loading found problems (listed in `problems`). */
  config: Readonly<ProxyConfig> | null;
  problems: string[];
}

export interface DoctorInputs {
  env: Env;
  idEnv: Env | null;
  idEnvSource: string;
  proxyArgv: string[] | null;
  proxySource: string;
  nginx: NginxConfig | null;
  composeFiles: string[];
  siteDir: string | null;
  backupDir: string | null;
  /** No requests at all: the URL checks say they were not run. */
  offline: boolean;
  idUrl: string | null;
  siteUrl: string | null;
  proxyUrl: string | null;
  privatePaths: string[];
  /** The port plain-HTTP redirects are checked on (80). */
  httpPort: number;
  /** --resolve: HOST:PORT → address, as curl takes it (the probe applies it; checks may read it). */
  resolve: ReadonlyMap<string, string>;
  clientId: string | null;
  dbConnectionString: string | null;
  probe: Probe;
  nowMs: () => number;
}

export interface DoctorContext {
  inputs: DoctorInputs;
  nowMs(): number;
  id: IdSettings | null;
  proxy: ProxySettings | null;
  nginx: NginxConfig | null;
  compose: ComposeService[] | null;
  composeId: ComposeService | null;
  composeProxy: ComposeService | null;
  /** The URLs of a running deployment (null when not given and not derivable). */
  urls: { id: string | null; site: string | null; proxy: string | null };
  privatePaths: string[];
  clientId: string | null;
  probe: Probe;
  /** GET, with the error turned into a value. */
  get(url: string, headers?: Record<string, string>, address?: string): Promise<ProbeAnswer | { error: string }>;
  discovery(): Promise<{ url: string; document: Record<string, unknown> } | { error: string }>;
  /** The id's database, opened read-only on first use; null when no connection string was given. */
  database(): Promise<Database | null>;
  /** Why no database is checked (the skip line of the database checks), where it may be. */
  noDatabase: string;
  close(): Promise<void>;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

function readComposeServices(file: string): ComposeService[] {
  const document = parseYaml(readFileSync(file, 'utf8')) as { services?: Record<string, Record<string, unknown>> } | null;
  const services = document?.services ?? {};
  const list = (value: unknown): string[] =>
    Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : [];
  return Object.entries(services).map(([name, s]) => {
    const environment: Record<string, string> = {};
    if (Array.isArray(s.environment)) {
      for (const entry of s.environment.map(String)) {
        const eq = entry.indexOf('=');
        environment[eq < 0 ? entry : entry.slice(0, eq)] = eq < 0 ? '' : entry.slice(eq + 1);
      }
    } else if (s.environment && typeof s.environment === 'object') {
      for (const [key, value] of Object.entries(s.environment)) environment[key] = value === null ? '' : String(value);
    }
    const health = s.healthcheck as { test?: unknown } | undefined;
    return {
      name, image: String(s.image ?? ''), command: list(s.command), environment,
      ports: list(s.ports), healthcheck: health?.test === undefined ? null : list(health.test),
    };
  });
}

const isIdService = (s: ComposeService) => /pocket-id/.test(s.image) || s.command[0] === 'id';
const isProxyService = (s: ComposeService) => /oauth2-proxy/.test(s.image) || s.command[0] === 'proxy';

function idSettings(env: Env, source: string, fromCompose: boolean): IdSettings {
  const appUrlProblems: string[] = [];
  const warnings: string[] = [];
  const appUrl = readAppUrl(env, appUrlProblems, warnings);
  const trustProblems: string[] = [];
  return { source, fromCompose, env, appUrl, appUrlProblems, trustProxy: readTrustProxy(env, trustProblems) };
}

function proxySettings(argv: string[], env: Env, source: string): ProxySettings {
  const ignored: string[] = [];
  const flags = readProxyArgv(argv, ignored);
  const environment = readProxyEnv(env, ignored);
  const configPath = (flags.get('config') ?? environment.get('config'))?.value;
  const file = typeof configPath === 'string' && existsSync(configPath) ? readProxyConfigFile(configPath, ignored) : new Map();
  const raw = new Map([...file, ...environment, ...flags].map(([flag, entry]) => [flag, entry.value] as const));
  try {
    return { source, raw, config: loadProxyConfig({ argv, env }), problems: [] };
  } catch (error) {
    if (error instanceof ConfigError) return { source, raw, config: null, problems: [...error.problems] };
    throw error;
  }
}

/**
 * The database checks' reason for not running. Without DB_CONNECTION_STRING latchkey id uses a
 * path relative to the folder it runs in, which doctor cannot know: it names the default and that
 * folder rather than guessing a path.
 */
function noDatabaseReason(id: IdSettings | null, composeId: ComposeService | null): string {
  if (id?.fromCompose && composeId && /pocket-id/.test(composeId.image)) return `${id.source} runs Pocket ID (${composeId.image}), whose database latchkey's checks do not read; they check latchkey id's (--db)`;
  if (id?.fromCompose) {
    const inside = id.env.DB_CONNECTION_STRING || (id.env.DB_CONNECTION_STRING_FILE ? `named in ${id.env.DB_CONNECTION_STRING_FILE}` : "/data/latchkey.db, the latchkey image's default");
    return `the database of ${id.source} is inside its container (${inside}); give its path on this machine (the volume) with --db`;
  }
  const file = id?.env.DB_CONNECTION_STRING_FILE;
  if (file) return `DB_CONNECTION_STRING_FILE (${file}, ${id!.source}) could not be read here: give the database with --db`;
  const here = existsSync(DEFAULT_DB_CONNECTION_STRING) ? `; there is one in this folder: --db ${DEFAULT_DB_CONNECTION_STRING} if latchkey id runs here` : '';
  return `no database given (--db or DB_CONNECTION_STRING); without DB_CONNECTION_STRING latchkey id uses ${DEFAULT_DB_CONNECTION_STRING} relative to the folder it runs in, which doctor cannot know: --db THAT-FOLDER/${DEFAULT_DB_CONNECTION_STRING}${here}`;
}

export function createContext(inputs: DoctorInputs): DoctorContext {
  const compose = inputs.composeFiles.length ? inputs.composeFiles.flatMap(readComposeServices) : null;
  const composeId = compose?.find(isIdService) ?? null;
  const composeProxy = compose?.find(isProxyService) ?? null;

  const idEnv = inputs.idEnv ?? (composeId ? composeId.environment : null);
  const id = idEnv ? idSettings(idEnv, inputs.idEnv ? inputs.idEnvSource : `compose service "${composeId!.name}"`, !inputs.idEnv) : null;

  let proxy: ProxySettings | null = null;
  if (inputs.proxyArgv) proxy = proxySettings(inputs.proxyArgv, inputs.env, inputs.proxySource);
  else if (composeProxy) {
    const argv = composeProxy.command[0] === 'proxy' ? composeProxy.command.slice(1) : composeProxy.command;
    proxy = proxySettings(argv, composeProxy.environment, `compose service "${composeProxy.name}"`);
  }

  const redirectUrl = proxy?.raw.get('redirect-url');
  const urls = inputs.offline ? { id: null, site: null, proxy: null } : {
    id: inputs.idUrl ? trimSlash(inputs.idUrl) : id?.appUrl ? id.appUrl.origin : null,
    site: inputs.siteUrl ? trimSlash(inputs.siteUrl) : typeof redirectUrl === 'string' && URL.canParse(redirectUrl) ? new URL(redirectUrl).origin : null,
    proxy: inputs.proxyUrl ? trimSlash(inputs.proxyUrl) : null,
  };

  const get = async (url: string, headers?: Record<string, string>, address?: string) => {
    try {
      return await inputs.probe(url, { headers, address });
    } catch (error) {
      return { error: (error as Error).message };
    }
  };

  let discovery: ReturnType<DoctorContext['discovery']> | null = null;
  let database: Promise<Database | null> | null = null;
  const connection = inputs.dbConnectionString;

  return {
    inputs,
    nowMs: inputs.nowMs,
    id,
    proxy,
    nginx: inputs.nginx,
    compose,
    composeId,
    composeProxy,
    urls,
    privatePaths: inputs.privatePaths,
    clientId: inputs.clientId ?? (typeof proxy?.raw.get('client-id') === 'string' ? (proxy.raw.get('client-id') as string) : null),
    probe: inputs.probe,
    get,
    discovery() {
      discovery ??= (async () => {
        if (!urls.id) return { error: 'no identity provider URL (--id-url or APP_URL)' };
        const url = `${urls.id}/.well-known/openid-configuration`;
        const answer = await get(url);
        if ('error' in answer) return { error: `${url}: ${answer.error}` };
        if (answer.status !== 200) return { error: `${url} answered ${answer.status}` };
        try {
          return { url, document: JSON.parse(answer.body) as Record<string, unknown> };
        } catch {
          return { error: `${url} did not answer JSON` };
        }
      })();
      return discovery;
    },
    database() {
      database ??= (async () => {
        if (!connection) return null;
        // never create an empty SQLite file where the operator pointed at a missing one
        if (!isPostgresUrl(connection) && !existsSync(sqlitePathOf(connection))) throw new Error(`no database at ${sqlitePathOf(connection)}`);
        // nor switch another application's file to WAL by opening it as latchkey's
        await refuseForeignSqliteDatabase(connection);
        return openDatabase(connection);
      })();
      return database;
    },
    noDatabase: noDatabaseReason(id, composeId),
    async close() {
      const db = await database?.catch(() => null);
      await db?.close();
    },
  };
}
