// Proxy sessions in Redis for seeded people (account-seed.ts): the template user's real session,
// read back with the proxy's own store and written again, once per copy, by the same store's
// write() — the ticket, the sealed value, the sid/sub index sets and their expiry are exactly
// what a sign-in through `latchkey proxy --session-store-type=redis` leaves.
import { randomBytes } from 'node:crypto';
import { systemClock } from '../../src/core/clock.ts';
import { parseCookieHeader } from '../../src/proxy/cookie-header.ts';
import { createRedisSessionStore } from '../../src/proxy/redis-session-store.ts';
import { createRevocations } from '../../src/proxy/revocations.ts';
import type { SeededAccount } from './account-seed.ts';

export interface ProxySessionSeedOptions {
  redisUrl: string;
  cookieSecret: Buffer;
  /** The template user's Cookie header for the Redis-mode proxy. */
  templateCookie: string;
  accounts: readonly SeededAccount[];
  cookieName?: string;
  /** Writes in flight at once (ioredis pipelines them on one connection). */
  inFlight?: number;
  /** A store with another key prefix than the proxy's default (scale-out's tests use one). */
  keyPrefix?: string;
}

export async function cloneProxySessions(options: ProxySessionSeedOptions): Promise<void> {
  const store = createRedisSessionStore({
    redisUrl: options.redisUrl, cookieName: options.cookieName ?? '_oauth2_proxy', cookieSecret: options.cookieSecret,
    revocations: createRevocations(systemClock, 3600), keyPrefix: options.keyPrefix,
  });
  await store.start();
  try {
    const template = await store.read(parseCookieHeader(options.templateCookie));
    if (!template) throw new Error('the template cookie opens no session in this Redis');
    const maxAgeSeconds = Math.max(60, template.expiresAt - Math.floor(Date.now() / 1000));
    const attrs = { domain: null, path: '/', secure: false, httpOnly: true, sameSite: '' } as const;
    const inFlight = options.inFlight ?? 1000;
    for (let start = 0; start < options.accounts.length; start += inFlight) {
      await Promise.all(options.accounts.slice(start, start + inFlight).map((account) => store.write({
        ...template, sub: account.userId, email: account.email, preferredUsername: account.username,
        // Each copy has its own provider session; the id's sids are 43 base64url characters.
        sid: template.sid ? randomBytes(32).toString('base64url') : '',
      }, attrs, maxAgeSeconds, Date.now(), new Map())));
    }
  } finally {
    await store.close();
  }
}
