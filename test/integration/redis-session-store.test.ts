// The Redis session store remembers what a ticket's sealed value opened to, so that most checks
// skip the decryption: the remembered session must never outlive the value in Redis, nor be
// given for any other value or any other cookie.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { systemClock } from '../../src/core/clock.ts';
import { parseCookieHeader } from '../../src/proxy/cookie-header.ts';
import { createRedisSessionStore } from '../../src/proxy/redis-session-store.ts';
import { createRevocations } from '../../src/proxy/revocations.ts';
import type { Session } from '../../src/proxy/session.ts';
import type { SessionStore } from '../../src/proxy/session-store.ts';
import { connectTestRedis, deleteRedisKeys, REDIS_URL, testRedisPrefix } from '../helpers/backends.ts';

const ATTRS = { domain: null, path: '/', secure: false, httpOnly: true, sameSite: '' } as const;

function session(sub: string): Session {
  const now = Math.floor(Date.now() / 1000);
  return { sub, email: `${sub}@example.com`, emailVerified: true, preferredUsername: sub, groups: ['family'], idToken: 'h.p.s', accessToken: 'at', refreshToken: '',
    sid: `sid-${sub}`, createdAt: now, expiresAt: now + 3600, refreshAt: 0 };
}

describe('Redis session store: remembered sessions', () => {
  let redis: Redis;
  let store: SessionStore;
  const keyPrefix = testRedisPrefix();

  before(async () => {
    redis = await connectTestRedis();
    store = createRedisSessionStore({ redisUrl: REDIS_URL, cookieName: '_oauth2_proxy', cookieSecret: randomBytes(32), revocations: createRevocations(systemClock, 3600), keyPrefix });
    await store.start();
  });
  after(async () => {
    await store.close();
    await deleteRedisKeys(redis, keyPrefix);
    redis.disconnect();
  });

  const signIn = async (sub: string) => {
    const [line] = await store.write(session(sub), ATTRS, 3600, Date.now(), new Map());
    return parseCookieHeader(line.split(';')[0]);
  };
  /** Where the store keeps the session a cookie's ticket names (redis-session-store.ts's sessionKey). */
  const ticketKey = (cookie: ReadonlyMap<string, string>) => `${keyPrefix}session:_oauth2_proxy:${cookie.get('_oauth2_proxy')!.split('.')[0]}`;

  it('gives the same frozen session again while Redis holds the same value', async () => {
    const cookie = await signIn('ada');
    const first = await store.read(cookie);
    assert.equal(first?.sub, 'ada');
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.groups), 'no request can change another request\'s session');
    assert.equal(await store.read(cookie), first, 'remembered');
  });

  it('answers no session once the value is gone from Redis, although it was remembered', async () => {
    const cookie = await signIn('bob');
    assert.equal((await store.read(cookie))?.sub, 'bob');
    await redis.del(ticketKey(cookie));
    assert.equal(await store.read(cookie), null);
  });

  it('opens the value again when it changed, and a value that does not open is no session', async () => {
    const cookie = await signIn('cy');
    assert.equal((await store.read(cookie))?.sub, 'cy');
    const key = ticketKey(cookie);
    const sealed = (await redis.getBuffer(key))!;
    sealed[sealed.length - 1] ^= 1;
    await redis.set(key, sealed);
    assert.equal(await store.read(cookie), null, 'a tampered value is refused, not answered from memory');
  });

  it('never gives a remembered session to another cookie naming the same ticket', async () => {
    const cookie = await signIn('dee');
    assert.equal((await store.read(cookie))?.sub, 'dee');
    const [id, , mac] = cookie.get('_oauth2_proxy')!.split('.');
    const forged = new Map([['_oauth2_proxy', `${id}.${randomBytes(32).toString('base64url')}.${mac}`]]);
    assert.equal(await store.read(forged), null);
  });
});
