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
