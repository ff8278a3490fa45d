// latchkey id when PostgreSQL or Redis goes away mid-flight: the request in flight fails with an
// error answer, the process keeps running, and a backend that stops answering costs a request a
// bounded wait instead of holding it (and the connection pool) for as long as the OS keeps the
// connection open.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { connectTestRedis, createTestPostgres, deleteRedisKeys, REDIS_URL, testRedisPrefix, type TestPostgres } from '../helpers/backends.ts';
import { freePort } from '../helpers/free-port.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.ts';

const authorizeUrl = (origin: string) => `${origin}/authorize?client_id=nobody&response_type=code&scope=openid&redirect_uri=https://app.example/cb`;

describe('latchkey id when PostgreSQL ends a connection with a query in flight', () => {
  let postgres: TestPostgres;
  let server: ChildProcess;
  let origin: string;
  let exited: string | null = null;
  before(async () => {
    postgres = await createTestPostgres();
    // its own process: what is at stake is whether the process survives
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, ['src/main.ts', 'id'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { PATH: process.env.PATH ?? '', APP_URL: `http://localhost:${port}`, PORT: String(port), HOST: '127.0.0.1', DB_CONNECTION_STRING: postgres.url, ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef', LOG_LEVEL: 'error' },
      stdio: 'ignore',
    });
    server.on('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
    for (let i = 0; i < 150 && !(await fetch(`${origin}/healthz`).then((r) => r.ok, () => false)); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  });
  after(async () => {
    server?.kill();
    await postgres?.drop();
  });

  // Before, the pg client's 'error' event had no listener on a checked-out connection, and ended the process.
  it('answers that request with an error and keeps running (a restart, failover or pg_terminate_backend)', async () => {
    assert.equal((await fetch(authorizeUrl(origin))).status, 400, 'an unknown client, answered from the database');
    const locker = new pg.Client({ connectionString: postgres.url });
    const admin = new pg.Client({ connectionString: postgres.url });
    await locker.connect();
    await admin.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE oidc_clients IN ACCESS EXCLUSIVE MODE');
      const inFlight = fetch(authorizeUrl(origin)).then((response) => response.status, (error: Error) => error.name);
      const database = new URL(postgres.url).pathname.slice(1);
      const others = 'datname = $1 AND pid <> pg_backend_pid() AND pid <> $2';
      const lockerPid = (locker as unknown as { processID: number }).processID;
      for (let i = 0; i < 50; i++) {
        const { rows } = await admin.query(`SELECT 1 FROM pg_stat_activity WHERE ${others} AND wait_event_type = 'Lock'`, [database, lockerPid]);
        if (rows.length) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE ${others}`, [database, lockerPid]);
      assert.equal(await inFlight, 500);
    } finally {
      await locker.end().catch(() => {});
      await admin.end().catch(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(exited, null, 'the process is still running');
    assert.equal((await fetch(authorizeUrl(origin))).status, 400, 'and answers, on a new connection');
  });
});

describe('latchkey id when PostgreSQL or Redis stops answering', () => {
  let postgres: TestPostgres;
  let postgresRelay: TcpRelay;
  let redisRelay: TcpRelay;
  let id: IdServer;
  const prefix = testRedisPrefix();
  before(async () => {
    postgres = await createTestPostgres();
    postgresRelay = await startTcpRelay(Number(new URL(postgres.url).port || 5432), new URL(postgres.url).hostname);
    redisRelay = await startTcpRelay(Number(new URL(REDIS_URL).port || 6379), new URL(REDIS_URL).hostname);
    const viaRelay = new URL(postgres.url);
    viaRelay.port = String(postgresRelay.port);
    id = await startIdServer({ DB_CONNECTION_STRING: viaRelay.href, REDIS_URL: `redis://127.0.0.1:${redisRelay.port}`, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'error' });
  });
  after(async () => {
    // the pool's stalled connections end with the relay
    await postgresRelay?.close();
    await redisRelay?.close();
    await id?.close();
    await postgres?.drop();
    const redis = await connectTestRedis();
    await deleteRedisKeys(redis, prefix);
    redis.disconnect();
  });

  const answered = (url: string, init: RequestInit = {}) =>
    fetch(url, { ...init, signal: AbortSignal.timeout(30_000) }).then((response) => response.status, (error: Error) => error.name);

  it('answers a passkey sign-in 503 once Redis stops answering, instead of waiting for it', async () => {
    const start = () => answered(`${id.origin}/api/webauthn/login/start`, {
      method: 'POST', body: '{}',
      headers: { 'content-type': 'application/json', origin: id.origin, cookie: `latchkey_csrf=${'a'.repeat(43)}`, 'x-csrf-token': 'a'.repeat(43) },
    });
    assert.equal(await start(), 200);
    redisRelay.blackhole();
    assert.equal(await start(), 503);
  });

  it('answers a request that needs the database with an error once PostgreSQL stops answering, for every waiting request', async () => {
    assert.equal(await answered(authorizeUrl(id.origin)), 400);
    postgresRelay.blackhole();
    // more requests than the pool has connections: none may wait for good
    const statuses = await Promise.all(Array.from({ length: 12 }, () => answered(authorizeUrl(id.origin))));
    assert.deepEqual([...new Set(statuses)], [500]);
  });
});

// Every request that needs Redis fails while it is away, thousands a second under load: the
// outage is told in a few lines (core/outage-log.ts), as `latchkey proxy` tells its own, and the
// answers stay what they were.
describe('latchkey id when Redis goes away: the log', () => {
  let relay: TcpRelay;
  let id: IdServer;
  const prefix = testRedisPrefix();
  const logged: { level: number; msg: string; err?: { message: string }; failed?: number }[] = [];
  before(async () => {
    relay = await startTcpRelay(Number(new URL(REDIS_URL).port || 6379), new URL(REDIS_URL).hostname);
    id = await startIdServer({ REDIS_URL: `redis://127.0.0.1:${relay.port}`, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'info' },
      { logDestination: { write: (line) => void logged.push(JSON.parse(line) as typeof logged[number]) } });
  });
  after(async () => {
    await relay?.close();
    await id?.close();
    const redis = await connectTestRedis();
    await deleteRedisKeys(redis, prefix);
    redis.disconnect();
  });

  const start = () => fetch(`${id.origin}/api/webauthn/login/start`, {
    method: 'POST', body: '{}', signal: AbortSignal.timeout(30_000),
    headers: { 'content-type': 'application/json', origin: id.origin, cookie: `latchkey_csrf=${'a'.repeat(43)}`, 'x-csrf-token': 'a'.repeat(43) },
  }).then((response) => response.status, (error: Error) => error.name);
  const problems = () => logged.filter((line) => line.level >= 40);
  const waitForLine = async (pattern: RegExp) => {
    for (let i = 0; i < 75 && !logged.some((line) => pattern.test(line.msg)); i++) await new Promise((resolve) => setTimeout(resolve, 200));
    return logged.filter((line) => pattern.test(line.msg));
  };

  it('logs a refused Redis once with its cause, not every request it fails, and then that it is back and how many failed', async () => {
    assert.equal(await start(), 200);
    logged.length = 0;

    await relay.refuse();
    const statuses = await Promise.all(Array.from({ length: 20 }, start));
    assert.deepEqual([...new Set(statuses)], [503], 'the answers are what they were');
    assert.equal(problems().length, 1, `one line for the outage, not one per request: ${problems().map((line) => line.msg).join(' | ')}`);
    assert.match(problems()[0].msg, /^Redis is unreachable/);
    assert.ok(problems()[0].err?.message, 'with its cause');

    await relay.heal();
    // ioredis reconnects on its own
    const back = await waitForLine(/^Redis reachable again/);
    assert.equal(back.length, 1);
    assert.match(back[0].msg, /^Redis reachable again after \d+ s; 20 requests failed$/);
    assert.equal(await start(), 200);
    assert.equal(problems().length, 1);
  });

  it('tells that a Redis which stopped answering is back at the first request it answers, though the connection never dropped', async () => {
    logged.length = 0;
    relay.blackhole();
    const statuses = await Promise.all(Array.from({ length: 5 }, start));
    assert.deepEqual([...new Set(statuses)], [503]);
    assert.deepEqual(problems().map((line) => line.msg.slice(0, 20)), ['Redis is unreachable']);

    await relay.heal();
    assert.equal(await start(), 200);
    const back = await waitForLine(/^Redis reachable again/);
    assert.equal(back.length, 1);
    assert.match(back[0].msg, /; 5 requests failed$/);
  });
});
