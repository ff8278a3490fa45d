// checkAuthNow (no promise, no I/O) must give checkAuth's answer whenever it gives one, and step
// aside (undefined) whenever checkAuth would write a cookie or wait for the provider.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { type AuthCheckResult, checkAuth, checkAuthNow } from '../../src/proxy/auth-check.ts';
import { createCookieCodec } from '../../src/proxy/cookie-codec.ts';
import { createProxyRuntime, type ProxyRuntime } from '../../src/proxy/proxy-runtime.ts';
import type { Session } from '../../src/proxy/session.ts';
import { proxyConfigFixture } from '../helpers/proxy-config-fixture.ts';

const START_MS = Date.UTC(2026, 5, 1);
const NOW = START_MS / 1000;
const config = proxyConfigFixture({ setXAuthRequest: true, setAuthorizationHeader: true });
const attrs = { domain: null, path: '/', secure: false, httpOnly: true, sameSite: '' as const };

const session = (overrides: Partial<Session> = {}): Session => ({
  sub: 'u1', email: 'ada@example.com', emailVerified: true, preferredUsername: 'ada', groups: ['staff'],
  idToken: 'h.p.s', accessToken: 'at', refreshToken: '', sid: 's1', createdAt: NOW - 60, expiresAt: NOW + 3600, refreshAt: 0, ...overrides,
});
const cookieFor = (s: Session) =>
  createCookieCodec(config.cookie.name, config.cookie.secret).write(s, attrs, 3600, START_MS, new Map())[0].split(';')[0];

function runtime() {
  return runtimeWith(config);
}

function runtimeWith(proxyConfig: typeof config) {
  const clock = manualClock(START_MS);
  const seen: [number, string, string | null][] = [];
  // The provider is never reachable here: a due refresh ends as "unavailable" and keeps the session.
  const fetch = (() => Promise.reject(new Error('no provider in this test'))) as typeof globalThis.fetch;
  const rt = createProxyRuntime(proxyConfig, { clock, fetch, authObserver: (status, s, reason) => seen.push([status, reason, s?.sub ?? null]) });
  return { rt, clock, seen };
}

/** Both answers for the same request, and what the observer was told by each. */
async function both(rt: ProxyRuntime, seen: unknown[], cookieHeader: string | undefined, rawQuery = '') {
  seen.length = 0;
  const now = checkAuthNow(rt, cookieHeader, rawQuery);
  const toldNow = seen.splice(0);
  const later = await checkAuth(rt, { cookieHeader, rawQuery, host: 'example.com' });
  const toldLater = seen.splice(0);
  return { now, later, toldNow, toldLater };
}

function assertSame(now: AuthCheckResult | undefined, later: AuthCheckResult, toldNow: unknown[], toldLater: unknown[]) {
  assert.ok(now, 'checkAuthNow answers');
  assert.deepEqual(now, later);
  assert.deepEqual(toldNow, toldLater);
  assert.equal(toldNow.length, 1, 'the observer hears of each check once');
}

describe('checkAuthNow agrees with checkAuth', () => {
  it('without a cookie: 401, nothing to delete', async () => {
    const { rt, seen } = runtime();
    const r = await both(rt, seen, undefined);
    assertSame(r.now, r.later, r.toldNow, r.toldLater);
    assert.equal(r.later.status, 401);
    assert.deepEqual(r.later.setCookies, []);
  });

  it('with a forged cookie: 401 as if there were none', async () => {
    const { rt, seen } = runtime();
    const value = cookieFor(session());
    const forged = value.slice(0, -10) + (value.at(-10) === 'A' ? 'B' : 'A') + value.slice(-9);
    const r = await both(rt, seen, `other=1; ${forged}`);
    assertSame(r.now, r.later, r.toldNow, r.toldLater);
    assert.equal(r.later.status, 401);
  });

  it('with a live session: 202 and the same identity headers, among other cookies', async () => {
    const { rt, seen } = runtime();
    const r = await both(rt, seen, `theme=dark; ${cookieFor(session())}; lang=en`);
    assertSame(r.now, r.later, r.toldNow, r.toldLater);
    assert.equal(r.later.status, 202);
    assert.equal(r.later.headers['x-auth-request-user'], 'u1');
  });

  it('checks the group rule of each query: 403 outside, 202 inside', async () => {
    const { rt, seen } = runtime();
    const cookie = cookieFor(session());
    const outside = await both(rt, seen, cookie, 'allowed_groups=family');
    assertSame(outside.now, outside.later, outside.toldNow, outside.toldLater);
    assert.equal(outside.later.status, 403);
    assert.equal(outside.later.session?.sub, 'u1');
    const inside = await both(rt, seen, cookie, 'allowed_groups=family,staff');
    assertSame(inside.now, inside.later, inside.toldNow, inside.toldLater);
    assert.equal(inside.later.status, 202);
  });

  it('leaves a session the configured rules refuse to checkAuth, which deletes it: 401, or 202 without identity on a skip route', async () => {
    const { rt, seen } = runtimeWith({ ...config, allowedGroups: ['admins'] });
    const cookie = cookieFor(session());
    const r = await both(rt, seen, cookie, 'allowed_groups=staff');
    assert.equal(r.now, undefined, 'checkAuthNow writes no cookie');
    assert.deepEqual(r.toldNow, []);
    assert.equal(r.later.status, 401);
    assert.equal(r.later.session?.sub, 'u1', 'the refused session, for the upstream mode to name');
    assert.deepEqual(r.toldLater, [[401, 'not in an allowed group', 'u1']]);
    assert.match(r.later.setCookies[0], /^_oauth2_proxy=; .*Max-Age=0/);
    const skipped = await checkAuth(rt, { cookieHeader: cookie, rawQuery: '', host: 'example.com', skipAuth: true });
    assert.deepEqual({ ...skipped, setCookies: skipped.setCookies.length }, { status: 202, headers: {}, setCookies: 1, session: null });
  });

  it('admits until the second before expiry, then leaves the deletion to checkAuth', async () => {
    const { rt, clock, seen } = runtime();
    const cookie = cookieFor(session({ expiresAt: NOW + 1 }));
    const last = await both(rt, seen, cookie);
    assertSame(last.now, last.later, last.toldNow, last.toldLater);
    assert.equal(last.later.status, 202);
    clock.advanceMs(1000); // now === expiresAt: ended
    const ended = await both(rt, seen, cookie);
    assert.equal(ended.now, undefined);
    assert.deepEqual(ended.toldNow, []);
    assert.equal(ended.later.status, 401);
    assert.deepEqual(ended.toldLater, [[401, 'expired', null]]);
    assert.match(ended.later.setCookies[0], /^_oauth2_proxy=; .*Max-Age=0/);
  });

  it('ends a session older than the --cookie-expire in force, though sealed to last a week, and deletes it', async () => {
    // signed in two hours ago under --cookie-expire=168h; this process runs with --cookie-expire=1h
    const { rt, seen } = runtimeWith({ ...config, cookie: { ...config.cookie, expireSeconds: 3600 } });
    const cookie = cookieFor(session({ createdAt: NOW - 2 * 3600, expiresAt: NOW - 2 * 3600 + 168 * 3600 }));
    const r = await both(rt, seen, cookie);
    assert.equal(r.now, undefined, 'left to checkAuth, which deletes the cookie');
    assert.equal(r.later.status, 401);
    assert.deepEqual(r.toldLater, [[401, 'expired', null]]);
    assert.match(r.later.setCookies[0], /^_oauth2_proxy=; .*Max-Age=0/);
    const recent = await both(rt, seen, cookieFor(session({ createdAt: NOW - 30 * 60, expiresAt: NOW - 30 * 60 + 168 * 3600 })));
    assertSame(recent.now, recent.later, recent.toldNow, recent.toldLater);
    assert.equal(recent.later.status, 202, 'signed in half an hour ago');
  });

  it('ends a session older than the --cookie-expire in force without refreshing it first', async () => {
    let providerCalls = 0;
    const fetch = (() => { providerCalls++; return Promise.reject(new Error('no provider in this test')); }) as typeof globalThis.fetch;
    const lowered = { ...config, cookie: { ...config.cookie, expireSeconds: 3600, refreshSeconds: 60 } };
    const rt = createProxyRuntime(lowered, { clock: manualClock(START_MS), fetch });
    const due = session({ createdAt: NOW - 2 * 3600, expiresAt: NOW - 2 * 3600 + 168 * 3600, refreshToken: 'rt', refreshAt: NOW - 1 });
    const result = await checkAuth(rt, { cookieHeader: cookieFor(due), rawQuery: '', host: 'example.com' });
    assert.equal(result.status, 401);
    assert.equal(providerCalls, 0, 'its refresh token is not spent');
  });

  it('ends a session revoked after it was opened and remembered', async () => {
    const { rt, clock, seen } = runtime();
    const cookie = cookieFor(session());
    const before = await both(rt, seen, cookie);
    assert.equal(before.now?.status, 202); // opened, and now in the codec's memory
    clock.advanceMs(1000);
    rt.revocations.revoke({ sid: 's1' });
    const after = await both(rt, seen, cookie);
    assert.equal(after.now, undefined);
    assert.equal(after.later.status, 401);
    assert.deepEqual(after.toldLater, [[401, 'revoked', null]]);
    assert.match(after.later.setCookies[0], /Max-Age=0/);
  });

  it('leaves a due refresh to checkAuth', async () => {
    const { rt, seen } = runtime();
    const r = await both(rt, seen, cookieFor(session({ refreshToken: 'rt', refreshAt: NOW - 1 })));
    assert.equal(r.now, undefined);
    assert.deepEqual(r.toldNow, []);
    assert.equal(r.later.status, 202); // provider unavailable: the still-valid session is kept
  });

  it('does not answer for a store that has to be asked (Redis)', async () => {
    const { rt } = runtime();
    const { readNow: _, ...serverSide } = rt.sessions;
    assert.equal(checkAuthNow({ ...rt, sessions: serverSide }, cookieFor(session()), ''), undefined);
  });
});

describe('checkAuthNow on a keep-alive connection', () => {
  it('remembers the session of the connection\'s Cookie header, and still checks revocations each time', async () => {
    const { rt, clock, seen } = runtime();
    const connection = {};
    const cookie = cookieFor(session());
    assert.equal(checkAuthNow(rt, cookie, '', connection)?.status, 202);
    assert.equal(checkAuthNow(rt, cookie, 'allowed_groups=family', connection)?.status, 403);
    clock.advanceMs(1000);
    rt.revocations.revoke({ sub: 'u1' });
    seen.length = 0;
    assert.equal(checkAuthNow(rt, cookie, '', connection), undefined);
    assert.equal((await checkAuth(rt, { cookieHeader: cookie, rawQuery: '', host: 'example.com' })).status, 401);
    assert.deepEqual(seen, [[401, 'revoked', null]]);
  });

  it('reads again when the header changes on the same connection', () => {
    const { rt } = runtime();
    const connection = {};
    assert.equal(checkAuthNow(rt, cookieFor(session({ sub: 'ann' })), '', connection)?.session?.sub, 'ann');
    assert.equal(checkAuthNow(rt, cookieFor(session({ sub: 'bob' })), '', connection)?.session?.sub, 'bob');
    assert.equal(checkAuthNow(rt, 'theme=dark', '', connection)?.status, 401);
    const value = cookieFor(session({ sub: 'bob' }));
    assert.equal(checkAuthNow(rt, value.slice(0, -4) + 'AAAA', '', connection)?.status, 401);
  });

  it('never answers one store\'s session from another\'s memory', () => {
    const { rt } = runtime();
    const other = createProxyRuntime(proxyConfigFixture(), { clock: manualClock(START_MS) }); // another cookie secret
    const connection = {};
    const cookie = cookieFor(session());
    assert.equal(checkAuthNow(rt, cookie, '', connection)?.status, 202);
    assert.equal(checkAuthNow(other, cookie, '', connection)?.status, 401);
  });
});

// The list of sessions the provider ended is in memory: after a restart, a session last checked
// with the provider before this process started is checked again at its first use.
describe('a session last checked before this process started', () => {
  const refreshing = { ...config, cookie: { ...config.cookie, refreshSeconds: 300 } };
  const start = () => createProxyRuntime(refreshing, { clock: manualClock(START_MS), fetch: (() => Promise.reject(new Error('no provider'))) as typeof globalThis.fetch });
  const cookieOf = (s: Session) => createCookieCodec(refreshing.cookie.name, refreshing.cookie.secret).write(s, attrs, 3600, START_MS, new Map())[0].split(';')[0];

  it('is sent to the provider at its first check, though its refresh is not due yet', () => {
    // checked 200 s before this start: refreshAt = checked + 300
    const beforeStart = session({ refreshToken: 'rt', refreshAt: NOW + 100 });
    assert.equal(checkAuthNow(start(), cookieOf(beforeStart), ''), undefined);
  });

  it('is answered at once when it was checked since (a sign-in or refresh by this process)', () => {
    const sinceStart = session({ refreshToken: 'rt', refreshAt: NOW + 300 });
    assert.equal(checkAuthNow(start(), cookieOf(sinceStart), '')?.status, 202);
  });

  it('without a refresh token (nothing to check it with) is answered as before', () => {
    assert.equal(checkAuthNow(start(), cookieOf(session({ refreshAt: 0 })), '')?.status, 202);
  });
});
