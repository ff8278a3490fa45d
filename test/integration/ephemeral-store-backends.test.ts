// The ephemeral store contract on every backend latchkey can run with.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createIdServices } from '../../src/app/id-services.ts';
import { loadIdConfig } from '../../src/config/id-config.ts';
import { manualClock } from '../../src/core/clock.ts';
import { AppError } from '../../src/core/errors.ts';
import { createOutageLog, isCountedOutage } from '../../src/core/outage-log.ts';
import { openMigratedDatabase } from '../../src/storage/database.ts';
import { createDatabaseStore, createMemoryStore } from '../../src/storage/ephemeral-store.ts';
import { createRedisStore } from '../../src/storage/redis-store.ts';
import { ephemeralStoreContract } from '../contract/ephemeral-store.ts';
import { connectTestRedis, createTestPostgres, deleteRedisKeys, REDIS_URL, testRedisPrefix } from '../helpers/backends.ts';

const elapseOn = (clock: ReturnType<typeof manualClock>) => async (seconds: number) => clock.advanceMs(seconds * 1000);

ephemeralStoreContract('memory', async () => {
  const clock = manualClock();
  const store = createMemoryStore(clock);
  return { store, elapse: elapseOn(clock), close: () => store.close() };
});

ephemeralStoreContract('database on SQLite', async () => {
  const clock = manualClock();
  const database = await openMigratedDatabase(':memory:');
  return { store: createDatabaseStore(database.db, clock), elapse: elapseOn(clock), close: () => database.close() };
});

ephemeralStoreContract('database on PostgreSQL', async () => {
  const clock = manualClock();
  const postgres = await createTestPostgres();
  const database = await openMigratedDatabase(postgres.url);
  return {
    store: createDatabaseStore(database.db, clock),
    elapse: elapseOn(clock),
    async close() {
      await database.close();
      await postgres.drop();
    },
  };
});

ephemeralStoreContract('Redis', async () => {
  const redis = await connectTestRedis();
  const keyPrefix = testRedisPrefix();
  const store = createRedisStore(redis, { keyPrefix });
  return {
    store,
    elapse: (seconds) => sleep(seconds * 1000),
    async close() {
      await deleteRedisKeys(redis, keyPrefix);
      await store.close();
    },
  };
});

describe('latchkey id with REDIS_URL', () => {
  it('keeps its short-lived state in Redis instead of the database', async () => {
    const redis = await connectTestRedis();
    const config = loadIdConfig({ env: { APP_URL: 'http://localhost:1411', DB_CONNECTION_STRING: ':memory:', ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef', REDIS_URL } });
    const services = await createIdServices(config);
    const key = `wiring-${randomUUID()}`;
    try {
      await services.store.put(key, 'in redis', 60);
      assert.equal(await redis.get(`latchkey:ephemeral:${key}`), 'in redis');
      assert.equal((await services.database.db.selectFrom('ephemeral').select('key').execute()).length, 0);
    } finally {
      await redis.del(`latchkey:ephemeral:${key}`);
      await services.close();
      redis.disconnect();
    }
  });

  it('writes its keys under REDIS_KEY_PREFIX when it is set', async () => {
    const redis = await connectTestRedis();
    const keyPrefix = testRedisPrefix();
    const config = loadIdConfig({ env: { APP_URL: 'http://localhost:1411', DB_CONNECTION_STRING: ':memory:', ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef', REDIS_URL, REDIS_KEY_PREFIX: keyPrefix } });
    const services = await createIdServices(config);
    const key = `wiring-${randomUUID()}`;
    try {
      await services.store.put(key, 'prefixed', 60);
      assert.equal(await redis.get(`${keyPrefix}${key}`), 'prefixed');
      assert.equal(await redis.exists(`latchkey:ephemeral:${key}`), 0, 'nothing under the default prefix');
    } finally {
      await deleteRedisKeys(redis, keyPrefix);
      await redis.del(`latchkey:ephemeral:${key}`);
      await services.close();
      redis.disconnect();
    }
  });
});

describe('the Redis store and its outage log', () => {
  it('counts no outage for an error Redis replies with: Redis answered, and the request is logged as any other failure', async () => {
    const redis = await connectTestRedis();
    const keyPrefix = testRedisPrefix();
    const lines: string[] = [];
    const record = (_fields: object, message = '') => void lines.push(message);
    const outage = createOutageLog({ backend: 'Redis', logger: { error: record, warn: record, info: record }, clock: manualClock() });
    const store = createRedisStore(redis, { keyPrefix, outage });
    try {
      await redis.hset(`${keyPrefix}a-hash`, 'field', 'value');
      // GETDEL and INCR of a hash: WRONGTYPE, one refused outright, one inside the transaction
      for (const attempt of [() => store.take('a-hash'), () => store.increment('a-hash', 60)]) {
        const error = await attempt().then(() => null, (thrown: unknown) => thrown);
        assert.ok(error instanceof AppError && error.status === 503, String(error));
        assert.equal(isCountedOutage(error), false);
      }
      assert.equal(outage.down, false);
      assert.deepEqual(lines, []);
    } finally {
      await deleteRedisKeys(redis, keyPrefix);
      await store.close();
    }
  });
});
