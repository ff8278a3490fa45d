// The Redis session store remembers what a ticket's sealed value opened to, so that most checks
// skip the decryption: the remembered session must never outlive the value in Redis, nor be
// given for any other value or any other cookie. Several stores on one Redis (several proxy
// instances) share a session's refresh: one spends the refresh token, the others take its outcome.
// The indexes a back-channel logout ends sessions through hold every ticket that still works and
// (nearly) nothing else.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { systemClock } from '../../src/core/clock.ts';
import { parseCookieHeader } from '../../src/proxy/cookie-header.ts';
import { createRedisSessionStore } from '../../src/proxy/redis-session-store.ts';
import { createRevocations } from '../../src/proxy/revocations.ts';
import type { RefreshOutcome } from '../../src/proxy/refresher.ts';
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

describe('Redis session store: a refresh shared by the instances', () => {
  let redis: Redis;
  let stores: SessionStore[];
  const keyPrefix = testRedisPrefix();
  const cookieSecret = randomBytes(32);

  before(async () => {
    redis = await connectTestRedis();
    // Two instances: same --cookie-secret, same Redis, same prefix.
    stores = [0, 1].map(() => createRedisSessionStore({ redisUrl: REDIS_URL, cookieName: '_oauth2_proxy', cookieSecret, revocations: createRevocations(systemClock, 3600), keyPrefix }));
    await Promise.all(stores.map((store) => store.start()));
  });
  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await deleteRedisKeys(redis, keyPrefix);
    redis.disconnect();
  });

  const due = (sub: string): Session => ({ ...session(sub), refreshToken: `rt-${sub}-${randomBytes(8).toString('hex')}`, refreshAt: Math.floor(Date.now() / 1000) - 1 });
  /** A refresh that counts its calls and answers `outcome` after `delayMs`. */
  const counted = (outcome: RefreshOutcome, delayMs = 0) => {
    const refresh = Object.assign(async () => {
      refresh.calls++;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return outcome;
    }, { calls: 0 });
    return refresh;
  };
  const refreshed = (old: Session): RefreshOutcome => ({ kind: 'refreshed', session: { ...old, refreshToken: `${old.refreshToken}-next`, accessToken: 'at-next', refreshAt: old.refreshAt + 3600 } });
  const [a, b] = [0, 1];

  it('runs the refresh at one instance when both ask at once; the other gets the same session', async () => {
    const old = due('eve');
    const outcome = refreshed(old);
    const refresh = counted(outcome, 150);
    const [atA, atB] = await Promise.all([stores[a].shareRefresh!(old, refresh), stores[b].shareRefresh!(old, refresh)]);
    assert.equal(refresh.calls, 1, 'the refresh token is spent once');
    assert.deepEqual(atA, outcome);
    assert.deepEqual(atB, outcome, 'the other instance gets the new session, tokens included');
  });

  it('answers a later ask for the same session with the recorded outcome', async () => {
    const old = due('fay');
    const outcome = refreshed(old);
    const refresh = counted(outcome);
    await stores[a].shareRefresh!(old, refresh);
    assert.deepEqual(await stores[b].shareRefresh!(old, refresh), outcome);
    assert.deepEqual(await stores[a].shareRefresh!(old, refresh), outcome);
    assert.equal(refresh.calls, 1);
  });

  it('tells the other instance that the provider refused the refresh, without asking it again', async () => {
    const old = due('gus');
    const refresh = counted({ kind: 'refused', cause: new Error('invalid_grant') });
    assert.equal((await stores[a].shareRefresh!(old, refresh)).kind, 'refused');
    assert.equal((await stores[b].shareRefresh!(old, refresh)).kind, 'refused');
    assert.equal(refresh.calls, 1);
  });

  it('lets the next ask refresh when the refresh failed without spending the token', async () => {
    const old = due('hal');
    const failing = counted({ kind: 'unavailable', cause: new Error('ECONNREFUSED') });
    assert.equal((await stores[a].shareRefresh!(old, failing)).kind, 'unavailable');
    const outcome = refreshed(old);
    const working = counted(outcome);
    assert.deepEqual(await stores[b].shareRefresh!(old, working), outcome);
    assert.equal(failing.calls + working.calls, 2);
  });

  it('keeps the session rather than spending the token when the other instance takes too long', async () => {
    const old = due('ida');
    let finish!: (outcome: RefreshOutcome) => void;
    const slow = Object.assign(() => { slow.calls++; return new Promise<RefreshOutcome>((resolve) => { finish = resolve; }); }, { calls: 0 });
    const atA = stores[a].shareRefresh!(old, slow);
    const started = Date.now();
    const atB = await stores[b].shareRefresh!(old, slow);
    assert.equal(atB.kind, 'unavailable', 'the check goes on with the session it has');
    assert.ok(Date.now() - started < 3000, 'and does not hold up the page for long');
    assert.equal(slow.calls, 1, 'the token was not spent a second time');
    finish(refreshed(old));
    assert.equal((await atA).kind, 'refreshed');
    assert.equal((await stores[b].shareRefresh!(old, slow)).kind, 'refreshed', 'once recorded, the outcome is there for the other instance');
  });

  it('refreshes each later refresh of a session whose provider keeps the refresh token', async () => {
    const old = due('jo');
    const first = counted(refreshed(old));
    await stores[a].shareRefresh!(old, first);
    const later: Session = { ...old, refreshAt: old.refreshAt + 1 };
    const second = counted(refreshed(later));
    await stores[b].shareRefresh!(later, second);
    assert.equal(first.calls + second.calls, 2, 'the same refresh token at another refresh time is another refresh');
  });

  it('records the outcome sealed, for a minute at most', async () => {
    const old = due('kim');
    await stores[a].shareRefresh!(old, counted(refreshed(old)));
    const keys = await redis.keys(`${keyPrefix}refresh:*`);
    assert.ok(keys.length > 0);
    for (const key of keys) {
      const value = (await redis.getBuffer(key))!.toString('latin1');
      assert.doesNotMatch(value, /rt-|at-next|example\.com|h\.p\.s/, 'no token or claim readable in Redis');
      assert.doesNotMatch(key, /rt-/, 'the key does not name the refresh token');
      const ttlMs = await redis.pttl(key);
      assert.ok(ttlMs > 0 && ttlMs <= 60_000, `pttl ${ttlMs} ms`);
    }
  });
});

// Back-channel logout finds a user's (sub) or a provider session's (sid) tickets through an index
// in Redis. The index must hold only the tickets that still work (so that it stays small and a
// logout walks only those), and every one of them, a ticket replaced by a refresh seconds ago
// (still accepted for requests in flight) included.
describe('Redis session store: the logout indexes', () => {
  let redis: Redis;
  let store: SessionStore;
  /** The same, but a replaced ticket lasts 200 ms instead of 10 s: a refresh's leftovers can be seen to go. */
  let quick: SessionStore;
  const keyPrefix = testRedisPrefix();
  const cookieSecret = randomBytes(32);
  const QUICK_GRACE_MS = 200;

  before(async () => {
    redis = await connectTestRedis();
    const options = { redisUrl: REDIS_URL, cookieName: '_oauth2_proxy', cookieSecret, revocations: createRevocations(systemClock, 3600), keyPrefix };
    store = createRedisSessionStore(options);
    quick = createRedisSessionStore({ ...options, replacedTicketGraceMs: QUICK_GRACE_MS });
    await Promise.all([store.start(), quick.start()]);
  });
  after(async () => {
    await Promise.all([store.close(), quick.close()]);
    await deleteRedisKeys(redis, keyPrefix);
    redis.disconnect();
  });

  const idOf = (cookie: ReadonlyMap<string, string>) => cookie.get('_oauth2_proxy')!.split('.')[0];
  const sessionKey = (id: string) => `${keyPrefix}session:_oauth2_proxy:${id}`;
  /** The index keys, as redis-session-store.ts names them: this version's sorted set, and the set an earlier version kept. */
  const indexKey = (kind: 'sid' | 'sub', value: string) => `${keyPrefix}${kind}-tickets:_oauth2_proxy:${value}`;
  const legacyIndexKey = (kind: 'sid' | 'sub', value: string) => `${keyPrefix}${kind}:_oauth2_proxy:${value}`;
  /** The ticket ids indexed under sub or sid, whichever kind of index holds them. */
  const indexed = async (kind: 'sid' | 'sub', value: string): Promise<string[]> => {
    const ids = new Set<string>();
    if (await redis.type(indexKey(kind, value)) === 'zset') for (const id of await redis.zrange(indexKey(kind, value), '0', '-1')) ids.add(id);
    if (await redis.type(legacyIndexKey(kind, value)) === 'set') for (const id of await redis.smembers(legacyIndexKey(kind, value))) ids.add(id);
    return [...ids].sort();
  };
  const live = async (ids: string[]) => {
    const alive: string[] = [];
    for (const id of ids) if (await redis.exists(sessionKey(id))) alive.push(id);
    return alive;
  };
  /** A write as a sign-in (no cookie yet) or a refresh (the browser's current cookie is `sent`). */
  const writeAt = async (at: SessionStore, s: Session, maxAgeSeconds: number, sent: ReadonlyMap<string, string> = new Map()) => {
    const [line] = await at.write(s, ATTRS, maxAgeSeconds, Date.now(), sent);
    return parseCookieHeader(line.split(';')[0]);
  };
  const withSid = (sub: string, sid: string): Session => ({ ...session(sub), sid });

  it('holds only the live tickets of a session refreshed many times, and expires with the last of them', async () => {
    let cookie = await writeAt(quick, session('lia'), 3600);
    for (let i = 0; i < 300; i++) cookie = await writeAt(quick, session('lia'), 3600, cookie);
    await new Promise((resolve) => setTimeout(resolve, QUICK_GRACE_MS + 100));
    cookie = await writeAt(quick, session('lia'), 3600, cookie);
    for (const [kind, value] of [['sub', 'lia'], ['sid', 'sid-lia']] as const) {
      const ids = await indexed(kind, value);
      assert.ok(ids.length <= 2, `${kind} index: the current ticket and the one it just replaced, not ${ids.length}`);
      assert.ok(ids.includes(idOf(cookie)), `${kind} index holds the current ticket`);
      assert.deepEqual(await live(ids), ids, `${kind} index holds no ended ticket`);
      const ttlMs = await redis.pttl(indexKey(kind, value));
      assert.ok(ttlMs > 3590_000 && ttlMs <= 3600_000, `${kind} index lives as long as its longest ticket (pttl ${ttlMs} ms)`);
    }
  });

  it('does not keep the tickets of sessions that expired', async () => {
    // A user who stays signed in on one device and signs in every day on another, whose sessions
    // are short: the index outlives those sessions (the first device's lasts), their tickets do not.
    const kept = await writeAt(store, withSid('max', 'sid-max-kept'), 3600);
    for (let i = 0; i < 5; i++) await writeAt(store, withSid('max', `sid-max-${i}`), 1);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const today = await writeAt(store, withSid('max', 'sid-max-today'), 3600);
    assert.deepEqual(await indexed('sub', 'max'), [idOf(kept), idOf(today)].sort());
  });

  it('takes the ticket out of the indexes at sign-out', async () => {
    const first = await writeAt(store, session('ned'), 3600);
    const other = await writeAt(store, session('ned'), 3600); // another browser, same provider session
    await store.clear(ATTRS, first);
    assert.equal(await store.read(first), null, 'signed out');
    for (const [kind, value] of [['sub', 'ned'], ['sid', 'sid-ned']] as const) {
      assert.deepEqual(await indexed(kind, value), [idOf(other)], `${kind} index: only the other browser's ticket is left`);
    }
    await store.clear(ATTRS, other);
    assert.deepEqual(await indexed('sub', 'ned'), []);
    assert.deepEqual(await indexed('sid', 'sid-ned'), []);
  });

  it('after a sign-out, keeps the index only as long as the tickets left in it', async () => {
    const replaced = await writeAt(store, session('oz'), 3600);
    const current = await writeAt(store, session('oz'), 3600, replaced);
    await store.clear(ATTRS, current);
    for (const [kind, value] of [['sub', 'oz'], ['sid', 'sid-oz']] as const) {
      assert.deepEqual(await indexed(kind, value), [idOf(replaced)], `${kind} index: the ticket replaced seconds ago, still working, is left`);
      const ttlMs = await redis.pttl(indexKey(kind, value));
      assert.ok(ttlMs > 0 && ttlMs <= 10_000, `${kind} index expires with that ticket's grace, not the signed-out session's lifetime (pttl ${ttlMs} ms)`);
    }
  });

  it('ends by sub every live session of the user, the one a refresh replaced seconds ago included', async () => {
    const replaced = await writeAt(store, withSid('ola', 'sid-ola-1'), 3600);
    const current = await writeAt(store, withSid('ola', 'sid-ola-1'), 3600, replaced);
    const elsewhere = await writeAt(store, withSid('ola', 'sid-ola-2'), 3600);
    const bystander = await writeAt(store, withSid('pia', 'sid-pia'), 3600);
    assert.equal((await store.read(replaced))?.sub, 'ola', 'the replaced ticket still works for requests in flight');
    await store.endSessions({ sub: 'ola' });
    for (const cookie of [replaced, current, elsewhere]) assert.equal(await store.read(cookie), null);
    assert.deepEqual(await indexed('sub', 'ola'), []);
    assert.equal((await store.read(bystander))?.sub, 'pia', 'another user keeps their session');
  });

  it('ends by sid every live session of the provider session, the one a refresh replaced seconds ago included', async () => {
    const replaced = await writeAt(store, withSid('quin', 'sid-quin-1'), 3600);
    const current = await writeAt(store, withSid('quin', 'sid-quin-1'), 3600, replaced);
    const otherSid = await writeAt(store, withSid('quin', 'sid-quin-2'), 3600);
    await store.endSessions({ sid: 'sid-quin-1', sub: 'quin' });
    for (const cookie of [replaced, current]) assert.equal(await store.read(cookie), null);
    assert.equal((await store.read(otherSid))?.sub, 'quin', 'the user\'s other provider session goes on');
    assert.deepEqual(await indexed('sid', 'sid-quin-1'), []);
    assert.deepEqual(await indexed('sub', 'quin'), [idOf(otherSid)], 'the ended tickets are out of the user\'s index too');
  });

  it('ends the sessions listed in the set index an earlier version kept, and drops that set', async () => {
    // Written before the upgrade: the earlier version added the ticket to a plain set under sub:… and sid:….
    const before = await writeAt(store, withSid('rae', 'sid-rae'), 3600);
    await redis.del(indexKey('sub', 'rae'), indexKey('sid', 'sid-rae'));
    await redis.sadd(legacyIndexKey('sub', 'rae'), idOf(before), 'an-id-whose-session-expired');
    await redis.sadd(legacyIndexKey('sid', 'sid-rae'), idOf(before));
    const after = await writeAt(store, withSid('rae', 'sid-rae'), 3600); // a sign-in after the upgrade
    await store.endSessions({ sub: 'rae' });
    assert.equal(await store.read(before), null, 'the session written before the upgrade is ended');
    assert.equal(await store.read(after), null, 'and the one written after it');
    assert.equal(await redis.exists(legacyIndexKey('sub', 'rae')), 0, 'the old set is gone');

    const old = await writeAt(store, withSid('sam', 'sid-sam'), 3600);
    await redis.del(indexKey('sub', 'sam'), indexKey('sid', 'sid-sam'));
    await redis.sadd(legacyIndexKey('sid', 'sid-sam'), idOf(old));
    await store.endSessions({ sid: 'sid-sam' });
    assert.equal(await store.read(old), null, 'by sid too');
    assert.equal(await redis.exists(legacyIndexKey('sid', 'sid-sam')), 0);
  });
});
