// latchkey's Redis commands need Redis 7.0: PEXPIRE with NX (the id's rate-limit counters) and LT
// (the proxy's session tickets) are 7.0's; GETDEL is 6.2's. An older server answers each of them
// with a syntax error, so every sign-in and every Redis session check would fail. Debian 12 ships
// 7.0, but Ubuntu 22.04 ships 6.0: say so at each (re)connection, naming the version found.

/** The oldest Redis whose commands latchkey uses all exist in. */
export const REDIS_MIN_MAJOR_VERSION = 7;

/** Whether a `redis_version` from INFO is too old; an unreadable one is given the benefit of the doubt. */
export function redisVersionTooOld(version: string | undefined): boolean {
  const major = Number.parseInt(version ?? '', 10);
  return Number.isFinite(major) && major < REDIS_MIN_MAJOR_VERSION;
}

interface ReadyClient {
  on(event: 'ready', listener: () => void): unknown;
  info(section: 'server'): Promise<string>;
}

/** The redis_version line of INFO's server section. */
export const redisVersionOf = (info: string): string | undefined => /^redis_version:(.+)$/m.exec(info)?.[1]?.trim();

/** Logs an error at each (re)connection to a server older than latchkey's commands (one INFO each time). */
export function warnWhenRedisTooOld(redis: ReadyClient, log: { error(details: object, message: string): void }, setting: string): void {
  redis.on('ready', () => {
    redis.info('server').then((info) => {
      const version = redisVersionOf(info);
      if (!redisVersionTooOld(version)) return;
      log.error({ event: 'redis_too_old', redisVersion: version },
        `${setting}: the server runs Redis ${version}; latchkey needs Redis ${REDIS_MIN_MAJOR_VERSION}.0 or later (PEXPIRE NX/LT), and every request that uses Redis will fail until it is upgraded`);
    }, () => {}); // a server that cannot answer INFO now is the outage log's to tell
  });
}
