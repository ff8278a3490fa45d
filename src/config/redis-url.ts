// REDIS_URL (latchkey id) and --redis-connection-url (latchkey proxy) take the same form, the one
// ioredis reads. Checked with the rest of the configuration: ioredis itself would take "notaurl"
// for a host name and retry it forever.
const REDIS_URL = /^rediss?:\/\/[^/]/;

export const REDIS_URL_FORM = 'redis://[user:password@]host[:port][/db] or rediss://… (TLS)';

export const isRedisUrl = (text: string): boolean => {
  if (!REDIS_URL.test(text)) return false;
  try {
    return new URL(text).hostname !== '';
  } catch {
    return false;
  }
};
