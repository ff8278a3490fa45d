// The ephemeral store in Redis (REDIS_URL): several `latchkey id` instances share challenges,
// one-time state and rate-limit counters without writing them to the database. Redis keeps the
// time to live itself, so expired keys vanish without a sweep.
import { Redis } from 'ioredis';
import { AppError } from '../core/errors.ts';
import type { EphemeralStore } from './ephemeral-store.ts';

export interface RedisStoreOptions {
  /** Prepended to every key, so several deployments (or tests) can share one Redis. */
  keyPrefix?: string;
}

const milliseconds = (ttlSeconds: number): number => Math.max(1, Math.round(ttlSeconds * 1000));

/** Opens a client for REDIS_URL (redis://[user:password@]host[:port][/db], or rediss:// for TLS). */
export function connectRedis(url: string): Redis {
  // Fail a command rather than queue it forever while Redis is away; reconnect in the background.
  return new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
}

export function createRedisStore(redis: Redis, options: RedisStoreOptions = {}): EphemeralStore {
  const prefix = options.keyPrefix ?? 'latchkey:ephemeral:';
  const k = (key: string) => prefix + key;
  const failed = (error: unknown): never => {
    throw new AppError('store_unavailable', 503, 'The service is busy. Please try again in a moment.', { cause: error });
  };
  return {
    async put(key, value, ttlSeconds) {
      await redis.set(k(key), value, 'PX', milliseconds(ttlSeconds)).catch(failed);
    },
    async get(key) {
      return redis.get(k(key)).catch(failed);
    },
    async take(key) {
      // GETDEL is one command: of two concurrent takes, exactly one receives the value.
      return redis.getdel(k(key)).catch(failed);
    },
    async delete(key) {
      await redis.del(k(key)).catch(failed);
    },
    async increment(key, ttlSeconds) {
      // One transaction: the counter never exists without its expiry; NX keeps the first expiry.
      const results = await redis.multi().incr(k(key)).pexpire(k(key), milliseconds(ttlSeconds), 'NX').exec().catch(failed);
      const [error, count] = results?.[0] ?? [new Error('transaction discarded'), null];
      if (error) failed(error);
      return Number(count);
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
