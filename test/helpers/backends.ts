// Throwaway PostgreSQL databases and Redis key prefixes for the tests that run against every backend.
// PostgreSQL and Redis run on 127.0.0.1 on this project's machines (scripts/services.sh starts them);
// when they are not reachable the tests fail loudly rather than skip.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

export const POSTGRES_ADMIN_URL = process.env.LATCHKEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.LATCHKEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestPostgres {
  /** The connection string of a new, empty database. */
  url: string;
  drop(): Promise<void>;
}

const adminQuery = async (text: string): Promise<void> => {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${POSTGRES_ADMIN_URL}; start it (scripts/services.sh)`, { cause: error });
  }
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
};

/** CREATE DATABASE latchkey_test_<random>; drop() removes it (and ends leftover connections). */
export async function createTestPostgres(): Promise<TestPostgres> {
  const name = `latchkey_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** A random key prefix for one test file, and a way to delete every key under it. */
export function testRedisPrefix(): string {
  return `latchkey-test:${randomBytes(6).toString('hex')}:`;
}

/** Connects (failing loudly when Redis is down) and returns a client. */
export async function connectTestRedis(): Promise<Redis> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`Redis is not reachable at ${REDIS_URL}; start it (scripts/services.sh)`, { cause: error });
  }
  return redis;
}

export async function deleteRedisKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
