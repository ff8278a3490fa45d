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

/** Where connectRedis reports that Redis went away and came back (the app's logger). */
export interface RedisConnectionLog {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

/** Opens a client for REDIS_URL (redis://[user:password@]host[:port][/db], or rediss:// for TLS). */
export function connectRedis(url: string, log?: RedisConnectionLog): Redis {
  // Fail a command rather than queue it forever while Redis is away; reconnect in the background.
  // The timeouts bound what a Redis that stops answering (rather than refusing) costs a request:
  // without them a passkey sign-in waited for as long as the connection stayed open.
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false, connectTimeout: 5_000, commandTimeout: 2_000 });
  // Without a listener ioredis prints every failed reconnection to stderr, outside the JSON log.
  // Once per outage is enough: the first error, then the recovery.
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log?.warn({ err: error }, 'Redis is unreachable; requests that need it are answered 503 until it is back');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log?.info({}, 'Redis is reachable again');
  });
  return redis;
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
