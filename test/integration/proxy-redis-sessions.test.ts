// --session-store-type=redis with two proxy instances sharing one Redis, against an independent
// OIDC provider: the cookie is a ticket, the session lives (sealed) in Redis, and sign-out or a
// back-channel logout received by one instance ends the session at the other; a sign-in response
// used at one instance is refused at the other.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createLogger } from '../../src/app/logger.ts';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.ts';
import { connectTestRedis, deleteRedisKeys, REDIS_URL, testRedisPrefix } from '../helpers/backends.ts';
import { proxyConfigFixture } from '../helpers/proxy-config-fixture.ts';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.ts';
import { CookieJar, loginAtProvider, logoutAtProvider, type ReferenceProvider, sendSubOnlyLogout, startReferenceProvider } from '../helpers/reference-provider.ts';

describe('proxy sessions in Redis, shared by two instances', () => {
  let op: ReferenceProvider;
  let redis: Redis;
  const keyPrefix = testRedisPrefix();
  const instances: { server: ProxyServer; url: string }[] = [];
  const [a, b] = [0, 1];
  const url = (i: number) => instances[i].url;

  before(async () => {
    redis = await connectTestRedis();
    op = await startReferenceProvider();
    const config = proxyConfigFixture({ oidcIssuerUrl: op.issuer, sessionStoreType: 'redis', redisConnectionUrl: REDIS_URL, setXAuthRequest: true, logLevel: 'error' });
    for (let i = 0; i < 2; i++) {
      const server = await createProxyServer(config, { redisKeyPrefix: keyPrefix });
      instances.push({ server, url: (await server.listen()).url });
    }
    op.configure({
      clientId: config.clientId, clientSecret: config.clientSecret,
      redirectUris: instances.map((instance) => `${instance.url}/oauth2/callback`),
      // The provider knows one address, as it would know the load balancer's: instance A receives every logout.
      backchannelLogoutUri: `${url(a)}/oauth2/backchannel-logout`,
    });
    await Promise.all(instances.map((instance) => instance.server.runtime.oidc.discover()));
  });
  after(async () => {
    await Promise.all(instances.map((instance) => instance.server.close()));
    await op?.close();
    await deleteRedisKeys(redis, keyPrefix);
    redis.disconnect();
  });

  const signInAt = async (i: number, login: string) => {
    const jar = new CookieJar();
    const start = await jar.fetch(`${url(i)}/oauth2/start?rd=/private/`);
    const callback = await loginAtProvider(jar, start.headers.get('location')!, login, `${url(i)}/oauth2/callback`);
    const finished = await jar.fetch(callback);
    assert.equal(finished.status, 302, 'the callback signs in');
    return jar;
  };
  const authAt = async (i: number, cookie: string) => {
    const response = await fetch(`${url(i)}/oauth2/auth`, { headers: { cookie } });
    await response.arrayBuffer();
    return response;
  };
  const sessionKeys = async () => (await redis.keys(`${keyPrefix}session:*`)).sort();

  it('gives the browser only a ticket and keeps the session sealed in Redis', async () => {
    const before = await sessionKeys();
    const jar = await signInAt(a, 'ticket-holder');
    const ticket = jar.get(url(a), '_oauth2_proxy')!;
    assert.match(ticket, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/);
    const added = (await sessionKeys()).filter((key) => !before.includes(key));
    assert.equal(added.length, 1, 'one session stored');
    const stored = (await redis.getBuffer(added[0]))!;
    assert.doesNotMatch(stored.toString('latin1'), /ticket-holder|example\.com|eyJ/, 'Redis holds no readable claim or token');
    const ttlSeconds = await redis.ttl(added[0]);
    assert.ok(ttlSeconds > 168 * 3600 - 60 && ttlSeconds <= 168 * 3600, `expires with the cookie (ttl ${ttlSeconds}s)`);
  });

  it('accepts at one instance a session signed in at the other', async () => {
    const jar = await signInAt(a, 'wanderer');
    const response = await authAt(b, jar.header(url(b)));
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('x-auth-request-email'), 'wanderer@example.com');
  });

  it('refuses a ticket whose secret was changed', async () => {
    const jar = await signInAt(a, 'tamperer');
    const [id, secret, mac] = jar.get(url(a), '_oauth2_proxy')!.split('.');
    const otherSecret = Buffer.from(secret, 'base64url').map((byte) => byte ^ 1);
    assert.equal((await authAt(b, `_oauth2_proxy=${id}.${Buffer.from(otherSecret).toString('base64url')}.${mac}`)).status, 401);
    assert.equal((await authAt(b, jar.header(url(b)))).status, 202, 'the genuine ticket still works');
  });

  it('ends the session everywhere when the user signs out at one instance', async () => {
    const jar = await signInAt(a, 'leaver');
    const saved = jar.header(url(a));
    const keysBefore = (await sessionKeys()).length;
    const signOut = await jar.fetch(`${url(b)}/oauth2/sign_out`);
    assert.equal(signOut.status, 302);
    assert.equal((await sessionKeys()).length, keysBefore - 1, 'the session is deleted from Redis');
    assert.equal((await authAt(a, saved)).status, 401, 'a saved copy of the cookie no longer works at the other instance');
  });

  it('ends the session at the other instance when one receives a back-channel logout', async () => {
    const jar = await signInAt(b, 'logged-out');
    const saved = jar.header(url(b));
    assert.equal((await authAt(b, saved)).status, 202);
    const keysBefore = (await sessionKeys()).length;
    await logoutAtProvider(jar, op.issuer);
    assert.equal((await sessionKeys()).length, keysBefore - 1, 'instance A deleted the session from Redis');
    assert.equal((await authAt(b, saved)).status, 401, 'instance B honours the logout that instance A received');
  });

  it('ends nothing when the same logout token comes again, at either instance: a newer sign-in survives', async () => {
    const jar = await signInAt(a, 'replayed');
    assert.equal((await authAt(a, jar.header(url(a)))).status, 202);
    const logoutToken = await sendSubOnlyLogout(op, instances[a].server.runtime.config.clientId, 'replayed');
    assert.equal((await authAt(a, jar.header(url(a)))).status, 401, 'the logout ended the session');
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a sign-in in a later second than the logout
    const again = await signInAt(a, 'replayed');
    const cookie = again.header(url(a));
    assert.equal((await authAt(a, cookie)).status, 202);
    const keysBefore = await sessionKeys();
    for (const i of [a, b]) {
      const replay = await fetch(`${url(i)}/oauth2/backchannel-logout`, { method: 'POST', body: new URLSearchParams({ logout_token: logoutToken }) });
      assert.equal(replay.status, 200);
    }
    // instance B never saw the token: only its jti, remembered in Redis, tells it a replay
    assert.deepEqual(await sessionKeys(), keysBefore, 'the new sign-in is still in Redis after the replays');
    for (const i of [a, b]) assert.equal((await authAt(i, cookie)).status, 202, 'and admitted at both instances');
  });

  it('tells every instance about a back-channel logout on the revocation channel', async () => {
    const jar = await signInAt(a, 'announced');
    const sizeBefore = instances[b].server.runtime.revocations.size;
    await logoutAtProvider(jar, op.issuer);
    for (let i = 0; i < 50 && instances[b].server.runtime.revocations.size === sizeBefore; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(instances[b].server.runtime.revocations.size, sizeBefore + 1, 'instance B added the logout to its deny-list');
  });

  it('refuses at one instance a sign-in response already used at the other', async () => {
    const jar = new CookieJar();
    const start = await jar.fetch(`${url(a)}/oauth2/start?rd=/private/`);
    const callback = new URL(await loginAtProvider(jar, start.headers.get('location')!, 'replayed', `${url(a)}/oauth2/callback`));
    const csrfCopy = jar.header(url(a));
    assert.equal((await jar.fetch(callback.href)).status, 302, 'instance A signs in');
    // The attacker holds the callback URL and a copy of the CSRF cookie, and sends them to B.
    const replay = await fetch(`${url(b)}${callback.pathname}${callback.search}`, { headers: { cookie: csrfCopy }, redirect: 'manual' });
    assert.equal(replay.status, 403);
    assert.match(await replay.text(), /already used/);
  });

  it('forgets a used sign-in state in Redis when its CSRF cookie would have expired', async () => {
    const jar = new CookieJar();
    const start = await jar.fetch(`${url(b)}/oauth2/start?rd=/private/`);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const callback = await loginAtProvider(jar, start.headers.get('location')!, 'expiring', `${url(b)}/oauth2/callback`);
    assert.equal((await jar.fetch(callback)).status, 302);
    const [key] = await redis.keys(`${keyPrefix}used-state:*${state}`);
    assert.ok(key, 'the used state is stored in Redis');
    const ttlMs = await redis.pttl(key);
    assert.ok(ttlMs > 14 * 60_000 && ttlMs <= 15 * 60_000, `expires with the CSRF cookie (pttl ${ttlMs} ms)`);
  });

  it('sends exactly one Redis command, a GET, per /oauth2/auth', async () => {
    const jar = await signInAt(a, 'counted');
    const cookie = jar.header(url(b));
    const monitor = await monitorRedis();
    try {
      // Markers instead of sleeps: MONITOR reports commands in the order Redis ran them, so once
      // the end marker is seen, every command of the checks before it has been seen too.
      await monitor.waitFor(`${keyPrefix}marker:start`, () => redis.get(`${keyPrefix}marker:start`));
      const from = monitor.lines.length;
      for (let i = 0; i < 5; i++) assert.equal((await authAt(i % 2, cookie)).status, 202);
      await monitor.waitFor(`${keyPrefix}marker:end`, () => redis.get(`${keyPrefix}marker:end`));
      // Only this test's keys: other test files may use Redis at the same time.
      const checks = monitor.lines.slice(from).filter((line) => line.includes(`"${keyPrefix}`) && !line.includes(`${keyPrefix}marker:`));
      assert.deepEqual(checks.map((line) => /\] "([a-z]+)"/i.exec(line)?.[1].toLowerCase()), Array(5).fill('get'));
    } finally {
      monitor.close();
    }
  });
});

/**
 * Redis MONITOR on a plain socket: one line per command Redis runs, in order. (ioredis's own
 * monitor() can take a command's echo for a reply when other clients are busy, and then throws.)
 */
async function monitorRedis(): Promise<{ lines: string[]; waitFor(key: string, send: () => Promise<unknown>): Promise<void>; close(): void }> {
  const { hostname, port } = new URL(REDIS_URL);
  const socket = connect(Number(port || 6379), hostname);
  const lines: string[] = [];
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\r\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write('MONITOR\r\n');
  for (let i = 0; i < 500 && !lines.includes('+OK'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(lines.includes('+OK'), 'Redis accepted MONITOR');
  return {
    lines,
    async waitFor(key, send) {
      for (let i = 0; i < 500 && !lines.some((line) => line.includes(`"${key}"`)); i++) {
        await send();
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(lines.some((line) => line.includes(`"${key}"`)), `MONITOR reported ${key}`);
    },
    close: () => socket.destroy(),
  };
}

// oauth2-proxy's ready endpoint checks its session store; and a Redis that stops answering must
// cost an auth check a bounded wait (nginx holds the page until the check answers), failing closed,
// without a log line for every check that fails meanwhile.
describe('proxy sessions in Redis when Redis goes away', () => {
  let op: ReferenceProvider;
  let relay: TcpRelay;
  let server: ProxyServer;
  let proxyUrl: string;
  const keyPrefix = testRedisPrefix();
  const logged: { level: number; msg: string; err?: { message: string }; failed?: number }[] = [];

  before(async () => {
    op = await startReferenceProvider();
    relay = await startTcpRelay(Number(new URL(REDIS_URL).port || 6379), new URL(REDIS_URL).hostname);
    const config = proxyConfigFixture({ oidcIssuerUrl: op.issuer, sessionStoreType: 'redis', redisConnectionUrl: `redis://127.0.0.1:${relay.port}`, logLevel: 'error' });
    const loggerInstance = createLogger('info', true, { write: (line) => void logged.push(JSON.parse(line) as typeof logged[number]) });
    server = await createProxyServer(config, { redisKeyPrefix: keyPrefix, loggerInstance });
    proxyUrl = (await server.listen()).url;
    op.configure({ clientId: config.clientId, clientSecret: config.clientSecret, redirectUris: [`${proxyUrl}/oauth2/callback`] });
    await server.runtime.oidc.discover();
  });
  after(async () => {
    await relay?.close();
    await server?.close();
    await op?.close();
    const redis = await connectTestRedis();
    await deleteRedisKeys(redis, keyPrefix);
    redis.disconnect();
  });

  /** Signs ada in and returns a /oauth2/auth check with her cookie: its status, or the error's name. */
  const signedInCheck = async () => {
    const jar = new CookieJar();
    const start = await jar.fetch(`${proxyUrl}/oauth2/start?rd=/private/`);
    await jar.fetch(await loginAtProvider(jar, start.headers.get('location')!, 'ada', `${proxyUrl}/oauth2/callback`));
    return () => fetch(`${proxyUrl}/oauth2/auth`, { headers: { cookie: jar.header(proxyUrl) }, signal: AbortSignal.timeout(30_000) })
      .then((response) => response.status, (error: Error) => error.name);
  };

  it('is ready while Redis answers, not ready once it stops, and fails auth checks closed within seconds', async () => {
    const check = await signedInCheck();
    const ready = () => fetch(`${proxyUrl}/ready`, { signal: AbortSignal.timeout(30_000) }).then((response) => response.status, (error: Error) => error.name);
    assert.equal(await check(), 202);
    assert.equal(await ready(), 200);
    relay.blackhole();
    // every check reads Redis (a deleted key is a signed-out session), so this one waits for it
    assert.equal(await check(), 401);
    assert.equal(await ready(), 503);
    await relay.heal();
  });

  it('answers a sign-in callback 503 while Redis is down, keeping the sign-in, and finishes it on a reload', async () => {
    const jar = new CookieJar();
    const start = await jar.fetch(`${proxyUrl}/oauth2/start?rd=/private/`);
    const callback = await loginAtProvider(jar, start.headers.get('location')!, 'ada', `${proxyUrl}/oauth2/callback`);
    // stopped, not partitioned: a command sent into a partition may still reach Redis later, and a
    // state claimed that way cannot be told from a replay
    await relay.refuse();
    const during = await jar.fetch(callback, { signal: AbortSignal.timeout(30_000) });
    assert.equal(during.status, 503);
    assert.ok(!during.headers.getSetCookie().some((line) => line.includes('_csrf=;')), 'the sign-in in progress is kept');
    await relay.heal();
    let after = during;
    // ioredis reconnects on its own; a user reloads until it has
    for (let i = 0; i < 50 && after.status !== 302; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await jar.fetch(callback);
    }
    assert.equal(after.status, 302);
    assert.equal(after.headers.get('location'), '/private/');
  });

  it('logs an outage once with its cause, not every check it fails, and then that Redis is back and how many checks failed', async () => {
    const check = await signedInCheck();
    assert.equal(await check(), 202);
    logged.length = 0;

    await relay.refuse();
    const statuses = await Promise.all(Array.from({ length: 20 }, check));
    assert.deepEqual([...new Set(statuses)], [401], 'the answers are what they were: every check fails closed');
    const problems = logged.filter((line) => line.level >= 40);
    assert.equal(problems.length, 1, `one line for the outage, not one per check: ${problems.map((line) => line.msg).join(' | ')}`);
    assert.match(problems[0].msg, /^Redis is unreachable/);
    assert.ok(problems[0].err?.message, 'with its cause');

    await relay.heal();
    // ioredis reconnects on its own
    for (let i = 0; i < 50 && !logged.some((line) => /^Redis reachable again/.test(line.msg)); i++) await new Promise((resolve) => setTimeout(resolve, 200));
    const back = logged.filter((line) => /^Redis reachable again/.test(line.msg));
    assert.equal(back.length, 1);
    assert.match(back[0].msg, /^Redis reachable again after \d+ s; 20 requests failed$/);
    assert.equal(back[0].failed, 20);
    assert.equal(await check(), 202);
  });
});
