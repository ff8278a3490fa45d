// The ephemeral store in Redis (REDIS_URL): several `latchkey id` instances share challenges,
// one-time state and rate-limit counters without writing them to the database. Redis keeps the
// time to live itself, so expired keys vanish without a sweep.
import { Redis, ReplyError } from 'ioredis';
import { type Clock, systemClock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { createOutageLog, type OutageLog, type OutageLogger } from '../core/outage-log.ts';
import type { EphemeralStore } from './ephemeral-store.ts';
import { warnWhenRedisTooOld } from '../core/redis-version.ts';

export interface RedisStoreOptions {
  /** Prepended to every key, so several deployments (or tests) can share one Redis. */
  keyPrefix?: string;
  /** Counts the requests that failed while Redis was away (connectRedis's); without it, each failure is the error handler's to log. */
  outage?: OutageLog;
}

const milliseconds = (ttlSeconds: number): number => Math.max(1, Math.round(ttlSeconds * 1000));

/** Where an outage is told (the app's logger): a few lines per outage, not one per request. */
export type RedisConnectionLog = OutageLogger;

/** A client for REDIS_URL, and the outage log its store counts failed requests with. */
export interface RedisConnection {
  redis: Redis;
  outage: OutageLog;
}

/**
 * Opens a client for REDIS_URL (redis://[user:password@]host[:port][/db], or rediss:// for TLS).
 * While Redis is away every request that needs it fails (503), thousands a second under load: the
 * outage is told by an outage log (core/outage-log.ts): the first failure with its cause, a line
 * at most every 15 s counting the requests that failed, and one when Redis is back; the error
 * handler logs none of those requests again (isCountedOutage).
 */
export function connectRedis(url: string, log?: RedisConnectionLog, clock: Clock = systemClock): RedisConnection {
  // Fail a command rather than queue it forever while Redis is away; reconnect in the background.
  // The timeouts bound what a Redis that stops answering (rather than refusing) costs a request:
  // without them a passkey sign-in waited for as long as the connection stayed open.
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false, connectTimeout: 5_000, commandTimeout: 2_000 });
  const outage = createOutageLog({ backend: 'Redis', logger: log ?? silentLog, clock });
  // Without a listener ioredis prints every failed reconnection to stderr, outside the JSON log;
  // the outage is told once, not at every attempt.
  redis.on('error', (error: Error) => outage.connectionFailed(error));
  redis.on('ready', () => outage.answered());
  warnWhenRedisTooOld(redis, log ?? silentLog, 'REDIS_URL');
  return { redis, outage };
}

const silentLog: RedisConnectionLog = { error() {}, warn() {}, info() {} };

export function createRedisStore(redis: Redis, options: RedisStoreOptions = {}): EphemeralStore {
  const prefix = options.keyPrefix ?? 'latchkey:ephemeral:';
  const k = (key: string) => prefix + key;
  const { outage } = options;
  const unavailable = (cause: unknown) => new AppError('store_unavailable', 503, 'The service is busy. Please try again in a moment.', { cause });
  // Redis answered. Also what ends an outage where no reconnection tells of it: a connection that
  // stopped answering (commands timed out) and then answers again is never reported 'ready'.
  const answered = <T>(value: T): T => {
    outage?.answered();
    return value;
  };
  // A command that got no answer (a refused or lost connection, a timeout) is counted by the
  // outage log; an error Redis replied with (a read-only replica, out of memory) is Redis
  // answering, so it ends no outage and starts none, and the error handler logs it.
  const failed = (error: unknown): never => {
    if (error instanceof ReplyError) throw unavailable(answered(error));
    throw unavailable(outage ? outage.requestFailed(error) : error);
  };
  return {
    async put(key, value, ttlSeconds) {
      await redis.set(k(key), value, 'PX', milliseconds(ttlSeconds)).then(answered, failed);
    },
    async get(key) {
      return redis.get(k(key)).then(answered, failed);
    },
    async take(key) {
      // GETDEL is one command: of two concurrent takes, exactly one receives the value.
      return redis.getdel(k(key)).then(answered, failed);
    },
    async delete(key) {
      await redis.del(k(key)).then(answered, failed);
    },
    async increment(key, ttlSeconds) {
      // One transaction: the counter never exists without its expiry; NX keeps the first expiry.
      const results = await redis.multi().incr(k(key)).pexpire(k(key), milliseconds(ttlSeconds), 'NX').exec().then(answered, failed);
      const [error, count] = results?.[0] ?? [new Error('transaction discarded'), null];
      if (error) throw unavailable(error);
      return Number(count);
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
