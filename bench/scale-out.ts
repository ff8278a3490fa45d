// Scale-out benchmark (not part of npm test): passkey sign-ins per second and /oauth2/auth checks
// per second with 1 and 2 instances of `latchkey id` and `latchkey proxy` (separate processes,
// PostgreSQL + Redis, real nginx round-robin in front), with 10 and 100,000 stored people. Its
// question is what a second instance adds; whether the cost grows with the data is measured
// properly (two stacks side by side, interleaved) by bench/data-growth.ts.
// Run: node bench/scale-out.ts [--seconds 5]
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { systemClock } from '../src/core/clock.ts';
import { createRedisSessionStore } from '../src/proxy/redis-session-store.ts';
import { createRevocations } from '../src/proxy/revocations.ts';
import { openMigratedDatabase } from '../src/storage/database.ts';
import { createTestPostgres, deleteRedisKeys } from '../test/helpers/backends.ts';
import { freePort, startNginx, writeNginxConf } from '../test/helpers/deploy-tools.ts';
import { idBrowser } from '../test/helpers/id-browser.ts';
import type { SoftAuthenticator } from '../test/helpers/soft-authenticator.ts';
import { cloneAccounts } from './lib/account-seed.ts';
import { enrolPasskeyUser } from './lib/enrol.ts';
import { sourceEntry, startIdProcess, startProxyProcess } from './lib/latchkey-stack.ts';
import { stop } from './lib/processes.ts';
import { cloneProxySessions } from './lib/proxy-session-seed.ts';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 5;
const REDIS_URL = 'redis://127.0.0.1:6379/11';
const KEY_PREFIX = 'latchkey:proxy:';
const COOKIE_SECRET = randomBytes(32);

/**
 * Grows the data to `total` people: copies of the enrolled user (user, passkey, the id's session,
 * audit entries: bench/lib/account-seed.ts), analysed as autovacuum would, and one Redis proxy
 * session each, written by the proxy's own store from the benchmark's session.
 */
async function seed(dbUrl: string, template: { userId: string; cookie: string }, total: number, seeded: number) {
  const database = await openMigratedDatabase(dbUrl);
  try {
    const { accounts } = await cloneAccounts(database.db, template.userId, total - seeded, { firstNumber: seeded });
    await sql`analyze`.execute(database.db);
    await cloneProxySessions({ redisUrl: REDIS_URL, cookieSecret: COOKIE_SECRET, templateCookie: template.cookie, accounts });
  } finally {
    await database.close();
  }
}

async function signInsPerSecond(idOrigin: string, authenticator: SoftAuthenticator, concurrency = 8): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < deadline) {
      const browser = idBrowser(idOrigin);
      await browser.page('/login');
      const start = await browser.json('/api/webauthn/login/start', {});
      const response = await authenticator.login(start.body.options as never);
      const finish = await browser.json('/api/webauthn/login/finish', { flowId: start.body.flowId, response });
      if (finish.response.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(finish.body)}`);
      done++;
    }
  }));
  return done / seconds;
}

function authChecksPerSecond(url: string, cookie: string, nginxDir: string): number {
  const result = spawnSync('wrk', ['-t2', '-c16', `-d${seconds}s`, '-H', `Cookie: ${cookie}`, url], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`wrk failed: ${result.stderr}`);
  if (/Non-2xx or 3xx responses/.test(result.stdout)) {
    const log = readFileSync(join(nginxDir, 'error.log'), 'utf8').trim().split('\n').slice(-10).join('\n');
    throw new Error(`some checks were refused:\n${result.stdout}\nnginx's error log ends with:\n${log}`);
  }
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(result.stdout)?.[1]);
}

/** Starts `instances` of each, measures with 10 stored users and sessions, seeds up to 100,000, measures again. */
async function scenario(instances: number) {
  const run = sourceEntry();
  const postgres = await createTestPostgres();
  const redis = new Redis(REDIS_URL);
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  const children: ChildProcess[] = [];
  let nginx: { stop(): Promise<void> } | null = null;
  try {
    await openMigratedDatabase(postgres.url).then((d) => d.close());
    const [idPort, sitePort] = [await freePort(), await freePort()];
    const idOrigin = `http://localhost:${idPort}`;
    const idPorts: number[] = [];
    const proxyPorts: number[] = [];
    for (let i = 0; i < instances; i++) idPorts.push(await freePort());
    for (let i = 0; i < instances; i++) proxyPorts.push(await freePort());
    for (const port of idPorts) children.push(await startIdProcess(run, { database: postgres.url, port, idOrigin, env: { REDIS_URL } }));
    const pool = (name: string, ports: number[]) => `upstream ${name} { ${ports.map((p) => `server 127.0.0.1:${p};`).join(' ')} keepalive 16; }`;
    writeNginxConf(dir, `${pool('ids', idPorts)}\n${pool('proxies', proxyPorts)}
server { listen 127.0.0.1:${idPort}; listen [::1]:${idPort}; location / { proxy_pass http://ids; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $http_host; } }
server { listen 127.0.0.1:${sitePort}; location /oauth2/ { proxy_pass http://proxies; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $http_host; } }\n`);
    // Before the proxies: they load the provider's discovery through nginx's id address.
    nginx = await startNginx(dir, sitePort);
    for (const port of proxyPorts) {
      // Only /oauth2/auth is asked of the proxies, with a session written by their store below: no client needs registering.
      children.push(await startProxyProcess(run, { port, issuer: idOrigin, clientId: 'bench', clientSecret: 'bench', cookieSecret: COOKIE_SECRET,
        origin: `http://127.0.0.1:${sitePort}`, redisUrl: REDIS_URL }));
    }

    const store = createRedisSessionStore({ redisUrl: REDIS_URL, cookieName: '_oauth2_proxy', cookieSecret: COOKIE_SECRET, revocations: createRevocations(systemClock, 3600) });
    const now = Math.floor(Date.now() / 1000);
    const [cookieLine] = await store.write({ sub: 'bench', email: 'bench@example.com', emailVerified: true, preferredUsername: 'bench', groups: [], idToken: 'x'.repeat(800),
      accessToken: 'y'.repeat(300), refreshToken: '', sid: 'bench-sid', createdAt: now, expiresAt: now + 3600, refreshAt: 0 }, { domain: null, path: '/', secure: false, httpOnly: true, sameSite: '' }, 3600, Date.now(), new Map());
    await store.close();
    // The seeded people are copies of one enrolled person who never signs in here (each copy
    // would otherwise carry every session the measurements make); another one does the sign-ins.
    const { userId } = await enrolPasskeyUser(postgres.url, idOrigin);
    const { authenticator } = await enrolPasskeyUser(postgres.url, idOrigin);
    const cookie = cookieLine.split(';')[0];
    const results = [];
    let seeded = 0;
    for (const stored of [10, 100_000]) {
      await seed(postgres.url, { userId, cookie }, stored, seeded);
      seeded = stored;
      // Best of three: other work on a shared machine only ever makes a run slower.
      const authRate = Math.max(...[1, 2, 3].map(() => authChecksPerSecond(`http://127.0.0.1:${sitePort}/oauth2/auth`, cookie, dir)));
      const signInRate = Math.max(await signInsPerSecond(idOrigin, authenticator), await signInsPerSecond(idOrigin, authenticator));
      results.push({ stored, instances, authRate, signInRate });
      console.log(`  done: ${stored} users/sessions, ${instances} instance(s)`);
    }
    return results;
  } finally {
    await nginx?.stop();
    await Promise.all(children.map(stop));
    await deleteRedisKeys(redis, KEY_PREFIX);
    await deleteRedisKeys(redis, 'latchkey:ephemeral:');
    redis.disconnect();
    await postgres.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`latchkey scale-out benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${seconds}s per measurement`);
const rows = [];
for (const instances of [1, 2]) rows.push(...await scenario(instances));
rows.sort((a, b) => a.stored - b.stored || a.instances - b.instances);
console.log('\n| stored users + sessions | instances (id + proxy) | /oauth2/auth per s | passkey sign-ins per s |');
console.log('|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.stored.toLocaleString('en')} | ${r.instances} | ${Math.round(r.authRate).toLocaleString('en')} | ${r.signInRate.toFixed(1)} |`);
