// A split deployment for the benchmarks, as separate processes on loopback: one `latchkey id`
// (SQLite file or PostgreSQL database) and, in front of the same site, one `latchkey proxy` with
// cookie sessions and one with Redis sessions, both registered as one OIDC client of the id.
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.ts';
import { createClientsService } from '../../src/oidc/clients.ts';
import { openMigratedDatabase } from '../../src/storage/database.ts';
import { freePort, repoRoot, startAndWait, stop } from './processes.ts';

export const BENCH_ENCRYPTION_KEY = 'bench-encryption-key-0123456789abcdef';

/** How the benchmarks run latchkey: the bundle (bench/lib/bundle.ts) or src/main.ts, and Node's flags. */
export interface LatchkeyEntry {
  entry: string;
  nodeArgs: string[];
  /** For `latchkey proxy`, when it differs (bin/latchkey adds --max-opt=2 there). */
  proxyNodeArgs?: string[];
}

export const sourceEntry = (): LatchkeyEntry => ({ entry: join(repoRoot, 'src/main.ts'), nodeArgs: [] });

export interface ProxyInstance {
  /** http://127.0.0.1:PORT: the proxy is the site (upstream static://202), on another host name than the id. */
  origin: string;
  child: ChildProcess;
}

export interface LatchkeyStack {
  /** http://localhost:PORT, a valid WebAuthn RP ID. */
  idOrigin: string;
  id: ChildProcess;
  proxies: { cookie: ProxyInstance; redis: ProxyInstance };
  /** The id's DB_CONNECTION_STRING. */
  database: string;
  /** The Redis the redis-mode proxy keeps its sessions in (its own database number). */
  redisUrl: string;
  /** Both proxies' --cookie-secret. */
  cookieSecret: Buffer;
  /**
   * Stops the three processes and starts them again on the same ports, data and secrets: sessions
   * and cookies stay valid. (Two identical processes can differ by 15 % for as long as they live
   * — JIT decisions, memory layout — so a comparison of two stacks should not rest on one pair.)
   */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** `latchkey id` with its production defaults apart from where it listens and stores. */
export async function startIdProcess(run: LatchkeyEntry, options: { database: string; port: number; idOrigin: string; env?: Record<string, string> }): Promise<ChildProcess> {
  const { child } = await startAndWait(join(repoRoot, 'node_modules/.bin/node'), [...run.nodeArgs, run.entry, 'id'], `http://127.0.0.1:${options.port}/healthz`, {
    env: { APP_URL: options.idOrigin, HOST: '127.0.0.1', PORT: String(options.port), DB_CONNECTION_STRING: options.database, ENCRYPTION_KEY: BENCH_ENCRYPTION_KEY, LOG_LEVEL: 'error',
      // every sign-in of a benchmark comes from 127.0.0.1: the per-address limit would refuse the 61st a minute
      AUTHORIZE_REQUESTS_PER_MINUTE: '0', ...options.env },
    timeoutMs: 30_000,
  });
  return child;
}

export interface ProxyProcessOptions {
  port: number;
  issuer: string;
  clientId: string;
  clientSecret: string;
  cookieSecret: Buffer;
  /** The site's origin; the callback is under it. */
  origin: string;
  /** Omitted: sessions in cookies (the default). */
  redisUrl?: string;
  /** Further flags (say why at the call site). */
  extraFlags?: string[];
}

/** `latchkey proxy` with the deployment guide's flags; resolves once /ready says discovery is loaded. */
export async function startProxyProcess(run: LatchkeyEntry, options: ProxyProcessOptions): Promise<ChildProcess> {
  const flags = ['--provider=oidc', `--client-id=${options.clientId}`, `--client-secret=${options.clientSecret}`, `--oidc-issuer-url=${options.issuer}`,
    `--redirect-url=${options.origin}/oauth2/callback`, `--cookie-secret=${options.cookieSecret.toString('base64url')}`, '--cookie-secure=false',
    '--email-domain=*', '--upstream=static://202', '--skip-provider-button=true', '--cookie-csrf-per-request=true', '--set-xauthrequest=true',
    `--http-address=127.0.0.1:${options.port}`, '--log-level=warn',
    ...(options.redisUrl ? ['--session-store-type=redis', `--redis-connection-url=${options.redisUrl}`] : []), ...(options.extraFlags ?? [])];
  const { child } = await startAndWait(join(repoRoot, 'node_modules/.bin/node'), [...(run.proxyNodeArgs ?? run.nodeArgs), run.entry, 'proxy', ...flags], `http://127.0.0.1:${options.port}/ping`, { timeoutMs: 30_000 });
  for (let attempt = 0; attempt < 100; attempt++) {
    const ready = await fetch(`http://127.0.0.1:${options.port}/ready`);
    await ready.arrayBuffer();
    if (ready.status === 200) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop(child);
  throw new Error(`latchkey proxy on ${options.port} never loaded the provider's discovery`);
}

/**
 * Registers the proxies' OIDC client in the (migrated) database, as `latchkey client add` does,
 * with a back-channel logout URI as the deployment guide's (so ID tokens carry a sid, and the
 * Redis-mode proxy indexes its sessions by it).
 */
async function registerClient(database: string, redirectUris: string[], backchannelLogoutUri: string): Promise<{ clientId: string; clientSecret: string }> {
  const opened = await openMigratedDatabase(database);
  try {
    const clients = createClientsService({ db: opened.db, clock: systemClock });
    const { client, secret } = await clients.create({ name: 'bench site', unrestricted: true, redirectUris, backchannelLogoutUri });
    return { clientId: client.id, clientSecret: secret! };
  } finally {
    await opened.close();
  }
}

/** Starts the id on `database`, then the two proxies; on failure stops what it started. */
export async function startLatchkeyStack(run: LatchkeyEntry, options: { database: string; redisUrl: string }): Promise<LatchkeyStack> {
  const [idPort, cookiePort, redisPort] = [await freePort(), await freePort(), await freePort()];
  const idOrigin = `http://localhost:${idPort}`;
  const origins = { cookie: `http://127.0.0.1:${cookiePort}`, redis: `http://127.0.0.1:${redisPort}` };
  const { clientId, clientSecret } = await registerClient(options.database, [`${origins.cookie}/oauth2/callback`, `${origins.redis}/oauth2/callback`],
    `${origins.redis}/oauth2/backchannel-logout`);
  const cookieSecret = randomBytes(32);
  const common = { issuer: idOrigin, clientId, clientSecret, cookieSecret };
  let running: ChildProcess[] = [];

  /** The three processes; what a restart starts again, with the same ports, data and secrets. */
  async function startProcesses(): Promise<[ChildProcess, ChildProcess, ChildProcess]> {
    const started: ChildProcess[] = [];
    try {
      started.push(await startIdProcess(run, { database: options.database, port: idPort, idOrigin }));
      started.push(await startProxyProcess(run, { ...common, port: cookiePort, origin: origins.cookie }));
      started.push(await startProxyProcess(run, { ...common, port: redisPort, origin: origins.redis, redisUrl: options.redisUrl }));
      running = started;
      return [started[0], started[1], started[2]];
    } catch (error) {
      await Promise.all(started.map(stop));
      throw error;
    }
  }

  const [id, cookie, redis] = await startProcesses();
  const stack: LatchkeyStack = {
    idOrigin, id, database: options.database, redisUrl: options.redisUrl, cookieSecret,
    proxies: { cookie: { origin: origins.cookie, child: cookie }, redis: { origin: origins.redis, child: redis } },
    async restart() {
      await Promise.all(running.map(stop));
      running = [];
      [stack.id, stack.proxies.cookie.child, stack.proxies.redis.child] = await startProcesses();
    },
    close: () => Promise.all(running.map(stop)).then(() => undefined),
  };
  return stack;
}
