// `latchkey doctor`: checks a deployment for the guide's failure modes and the mistakes it
// invites, and prints what it saw and the exact fix for each. Exit status 1 when any check fails.
import { readFileSync } from 'node:fs';
import { readEnv } from '../config/env.ts';
import type { Env } from '../config/problems.ts';
import { createContext } from '../doctor/context.ts';
import { readNginxDump, readNginxFile, type NginxConfig } from '../doctor/nginx-config.ts';
import { createProbe } from '../doctor/probe.ts';
import { formatResults, runChecks } from '../doctor/run.ts';
import { parseCommandArgs, usageError } from './args.ts';

const HELP = `usage: latchkey doctor [inputs…] [--json] [--proxy-args PROXY-FLAGS…]

Checks what it is given; a check whose input is missing says so ("not checked") and nothing more.

Configuration
  (environment)            the id's variables (APP_URL, TRUST_PROXY, ENCRYPTION_KEY, DB_CONNECTION_STRING…)
  --id-env FILE            the id's variables from a KEY=VALUE file instead
  --proxy-args …           the proxy's flags: everything after it (as after latchkey proxy)
  --proxy-config FILE      the proxy's TOML file (oauth2-proxy .cfg)
  --nginx-config FILE      the nginx configuration (includes are followed)
  --nginx-t                read the output of nginx -T from stdin:  nginx -T 2>&1 | latchkey doctor --nginx-t
  --compose FILE           a docker compose file with the id and/or proxy services, repeatable
  --db CONNECTION          the id's database (default: DB_CONNECTION_STRING or its _FILE; never
                           latchkey id's own default, data/latchkey.db under the folder it runs in)
  --client-id ID           the proxy's client at the id (default: the proxy's --client-id)

A running deployment
  --id-url URL             where users open the identity provider (default: APP_URL)
  --site-url URL           the site (default: the origin of the proxy's --redirect-url)
  --proxy-url URL          the proxy directly, e.g. http://127.0.0.1:4180 (default: through the site)
  --private-path PREFIX    a protected prefix, repeatable (/private/)
  --http-port N            where plain HTTP is expected to redirect to HTTPS (80)
  --resolve HOST:PORT:ADDR connect to ADDR for HOST:PORT, as curl does (before DNS points there);
                           plain HTTP (--http-port) is checked at the address of HOST's https
                           entry unless HOST:HTTP-PORT has its own, and the result says which
  --ca-file FILE           also trust this CA (a private or test CA)
  --timeout SECONDS        per request (5)
  --offline                check files and configuration only; no request to any URL

Files
  --site DIR               the built site (Hugo's public/): private pages leaking into public files
  --backup-dir DIR         the latest backup's age, and that it restores

  --json                   print the results as JSON`;

const OPTIONS = {
  'id-env': { type: 'string' }, 'proxy-config': { type: 'string' }, 'nginx-config': { type: 'string' }, 'nginx-t': { type: 'boolean' },
  compose: { type: 'string', multiple: true }, db: { type: 'string' }, 'client-id': { type: 'string' },
  'id-url': { type: 'string' }, 'site-url': { type: 'string' }, 'proxy-url': { type: 'string' },
  'private-path': { type: 'string', multiple: true }, 'http-port': { type: 'string' }, resolve: { type: 'string', multiple: true },
  'ca-file': { type: 'string' }, offline: { type: 'boolean' }, timeout: { type: 'string' }, site: { type: 'string' }, 'backup-dir': { type: 'string' },
} as const;

export interface DoctorIo {
  env: Env;
  /** Text of stdin, read only for --nginx-t. */
  readStdin(): Promise<string>;
  print(text: string): void;
  nowMs(): number;
}

const processIo: DoctorIo = {
  env: process.env,
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  print: (text) => console.log(text),
  nowMs: () => Date.now(),
};

function readEnvFile(path: string): Env {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) env[match[1]] = match[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

const url = (name: string, value: string | undefined): string | null => {
  if (value === undefined) return null;
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw usageError(`--${name}: "${value}" is not an http(s) URL`);
  return value;
};

const port = (value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) throw usageError(`--http-port: "${value}" is not a port (1-65535)`);
  return Number(value);
};

const seconds = (value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0) throw usageError(`--timeout: "${value}" is not a number of seconds above 0`);
  return Number(value);
};

export async function run(argv: string[], io: DoctorIo = processIo): Promise<number> {
  const split = argv.indexOf('--proxy-args');
  const own = split < 0 ? argv : argv.slice(0, split);
  const { values } = parseCommandArgs(own, OPTIONS, false);
  if (values.help) {
    io.print(HELP);
    return 0;
  }
  const resolve = new Map<string, string>();
  for (const entry of values.resolve ?? []) {
    const match = /^([^:]+):(\d+):(.+)$/.exec(entry);
    if (!match) throw usageError(`--resolve: "${entry}" is not HOST:PORT:ADDRESS`);
    resolve.set(`${match[1]}:${match[2]}`, match[3].replace(/^\[|\]$/g, ''));
  }
  let nginx: NginxConfig | null = null;
  try {
    if (values['nginx-config']) nginx = readNginxFile(values['nginx-config']);
    else if (values['nginx-t']) nginx = readNginxDump(await io.readStdin());
  } catch (error) {
    throw usageError(`the nginx configuration could not be read: ${(error as Error).message}`);
  }
  const env = io.env;
  const idEnv = values['id-env'] ? readEnvFile(values['id-env']) : env.APP_URL !== undefined || env.PUBLIC_APP_URL !== undefined ? env : null;
  const proxyArgv = split >= 0 ? argv.slice(split + 1) : values['proxy-config'] ? ['--config', values['proxy-config']] : null;
  const privatePaths = (values['private-path'] ?? ['/private/']).map((p) => `/${p.replace(/^\/+|\/+$/g, '')}/`);
  const ctx = createContext({
    env, idEnv, idEnvSource: values['id-env'] ?? 'the environment',
    proxyArgv, proxySource: split >= 0 ? '--proxy-args' : values['proxy-config'] ?? '',
    nginx, composeFiles: values.compose ?? [], siteDir: values.site ?? null, backupDir: values['backup-dir'] ?? null,
    offline: values.offline ?? false,
    idUrl: url('id-url', values['id-url']), siteUrl: url('site-url', values['site-url']), proxyUrl: url('proxy-url', values['proxy-url']),
    privatePaths, httpPort: port(values['http-port'], 80), resolve, clientId: values['client-id'] ?? null,
    // as latchkey id reads it (DB_CONNECTION_STRING_FILE too); its default is not assumed (context.ts)
    dbConnectionString: values.db ?? readEnv(env, 'DB_CONNECTION_STRING', []) ?? (idEnv ? readEnv(idEnv, 'DB_CONNECTION_STRING', []) : undefined) ?? null,
    probe: createProbe({ resolve, ca: values['ca-file'] ? readFileSync(values['ca-file'], 'utf8') : null, timeoutMs: seconds(values.timeout, 5) * 1000 }),
    nowMs: io.nowMs,
  });
  try {
    const results = await runChecks(ctx);
    io.print(values.json ? JSON.stringify({ ok: !results.some((r) => r.status === 'fail'), results }, null, 2) : formatResults(results));
    return results.some((r) => r.status === 'fail') ? 1 : 0;
  } finally {
    await ctx.close();
  }
}
