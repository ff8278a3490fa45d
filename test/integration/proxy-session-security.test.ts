import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createCookieCodec } from '../../src/proxy/cookie-codec.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import { CookieJar, loginAtProvider } from '../helpers/reference-provider.ts';

const sessionCookieLines = (response: Response) =>
  response.headers.getSetCookie().filter((l) => /^_oauth2_proxy(_\d+)?=[^;]/.test(l) && !l.includes('Max-Age=0'));

describe('proxy session cookie and CSRF defences', () => {
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({
      config: { setXAuthRequest: true },
      accounts: (login) => ({
        email: `${login}@example.com`,
        email_verified: true,
        groups: login === 'many' ? Array.from({ length: 220 }, (_, i) => `team-${i}`) : ['staff'],
      }),
    });
  });
  after(() => h.close());

  const withSession = (value: string) => {
    const jar = new CookieJar();
    jar.byHost.set('127.0.0.1', new Map([['_oauth2_proxy', value]]));
    return jar;
  };

  it('answers 401, never a redirect, when the session cookie was tampered with', async () => {
    const { jar } = await h.signIn('ada');
    const value = jar.get(h.proxyUrl, '_oauth2_proxy')!;
    const i = Math.floor(value.length / 2);
    const tampered = value.slice(0, i) + (value[i] === 'a' ? 'b' : 'a') + value.slice(i + 1);
    assert.equal((await h.authCheck(withSession(tampered))).status, 401);
  });

  it('answers 401 when the session cookie was truncated', async () => {
    const { jar } = await h.signIn('ada');
    assert.equal((await h.authCheck(withSession(jar.get(h.proxyUrl, '_oauth2_proxy')!.slice(0, -10)))).status, 401);
  });

  it('answers 401 to a session sealed with another cookie secret', async () => {
    const foreign = createCookieCodec('_oauth2_proxy', randomBytes(32));
    const now = Math.floor(h.clock.nowMs() / 1000);
    const [line] = foreign.write({ sub: 'mallory', email: 'mallory@example.com', emailVerified: true, preferredUsername: 'mallory', groups: ['staff'],
      idToken: 'x.y.z', accessToken: '', refreshToken: '', sid: '', createdAt: now, expiresAt: now + 3600, refreshAt: 0 },
    { domain: null, path: '/', secure: false, httpOnly: true, sameSite: '' }, 3600, h.clock.nowMs(), new Map());
    assert.equal((await h.authCheck(withSession(line.split(';')[0].split('=')[1]))).status, 401);
  });

  it('answers 401 once the session has expired, even if the browser still sends the cookie', async () => {
    const { jar } = await h.signIn('ada');
    assert.equal((await h.authCheck(jar)).status, 202);
    const saved = jar.get(h.proxyUrl, '_oauth2_proxy')!;
    h.clock.advanceMs((h.config.cookie.expireSeconds + 1) * 1000);
    try {
      assert.equal((await h.authCheck(withSession(saved))).status, 401);
    } finally {
      h.clock.advanceMs(-(h.config.cookie.expireSeconds + 1) * 1000);
    }
  });

  it('splits a session with a large groups claim over several cookies that round-trip', async () => {
    const jar = new CookieJar();
    const callback = await jar.fetch(await h.reachCallback(jar, 'many'));
    const lines = sessionCookieLines(callback);
    assert.ok(lines.length >= 2, `expected a split cookie, got ${lines.length} part(s)`);
    assert.ok(lines.every((l) => l.length <= 4000));
    assert.deepEqual(lines.map((l) => l.split('=')[0]), lines.map((_, i) => `_oauth2_proxy_${i}`));
    const response = await h.authCheck(jar);
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('x-auth-request-groups')!.split(',').length, 220);
  });

  it('answers 401 when one part of a split session is missing', async () => {
    const jar = new CookieJar();
    await jar.fetch(await h.reachCallback(jar, 'many'));
    jar.byHost.get('127.0.0.1')!.delete('_oauth2_proxy_1');
    assert.equal((await h.authCheck(jar)).status, 401);
  });

  it('refuses a callback without the CSRF cookie with 403 and sets no session', async () => {
    const jar = new CookieJar();
    const callbackUrl = await h.reachCallback(jar, 'ada');
    jar.byHost.get('127.0.0.1')!.delete('_oauth2_proxy_csrf');
    const response = await jar.fetch(callbackUrl);
    assert.equal(response.status, 403);
    assert.deepEqual(sessionCookieLines(response), []);
    assert.equal((await h.authCheck(jar)).status, 401);
  });

  it('refuses a callback whose state belongs to another browser with 403 and sets no session', async () => {
    const victim = new CookieJar();
    const attacker = new CookieJar();
    const attackerCallback = await h.reachCallback(attacker, 'mallory');
    await h.reachCallback(victim, 'ada'); // the victim has a CSRF cookie of their own
    const response = await victim.fetch(attackerCallback);
    assert.equal(response.status, 403);
    assert.deepEqual(sessionCookieLines(response), []);
  });

  it('refuses a replayed callback, even with a copy of the CSRF cookie', async () => {
    const jar = new CookieJar();
    const callbackUrl = await h.reachCallback(jar, 'ada');
    const csrf = jar.get(h.proxyUrl, '_oauth2_proxy_csrf')!;
    assert.equal((await jar.fetch(callbackUrl)).status, 302);
    const replay = withSession('');
    replay.byHost.set('127.0.0.1', new Map([['_oauth2_proxy_csrf', csrf]]));
    const response = await replay.fetch(callbackUrl);
    assert.equal(response.status, 403);
    assert.deepEqual(sessionCookieLines(response), []);
  });

  it('refuses a callback whose iss is not the issuer (RFC 9207)', async () => {
    const jar = new CookieJar();
    const callbackUrl = new URL(await h.reachCallback(jar, 'ada'));
    assert.equal(callbackUrl.searchParams.get('iss'), h.op.issuer, 'the provider sends iss');
    callbackUrl.searchParams.set('iss', 'http://127.0.0.1:1');
    const response = await jar.fetch(callbackUrl.href);
    assert.equal(response.status, 403);
    assert.deepEqual(sessionCookieLines(response), []);
  });

  it('shows a clear error page when the provider returns an error', async () => {
    const jar = new CookieJar();
    const start = await jar.fetch(`${h.proxyUrl}/oauth2/start`);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const response = await jar.fetch(`${h.proxyUrl}/oauth2/callback?error=access_denied&state=${state}`, { headers: { accept: 'text/html' } });
    assert.equal(response.status, 403);
    const page = await response.text();
    assert.match(page, /did not sign you in \(access_denied\)/);
    assert.deepEqual(sessionCookieLines(response), []);
  });

  // Starting a sign-in no longer deletes the session (any website could send the browser there,
  // proxy-sign-out-csrf.test.ts): the sign-in it leads to replaces it, all of its parts.
  it('replaces a split session with the one a new sign-in finishes, leaving no part of the old one', async () => {
    const jar = new CookieJar();
    await jar.fetch(await h.reachCallback(jar, 'many'));
    assert.ok(jar.names(h.proxyUrl).includes('_oauth2_proxy_1'), 'a split session');
    // the provider forgets its own session (same host name as the proxy in the jar), so it asks who signs in
    for (const name of jar.names(h.proxyUrl)) if (!name.startsWith('_oauth2_proxy')) jar.byHost.get('127.0.0.1')!.delete(name);
    const start = await jar.fetch(`${h.proxyUrl}/oauth2/start`);
    assert.deepEqual(start.headers.getSetCookie().filter((l) => /^_oauth2_proxy(_\d+)?=/.test(l)), [], 'the start leaves it');
    const callback = await jar.fetch(await loginAtProvider(jar, start.headers.get('location')!, 'ada', `${h.proxyUrl}/oauth2/callback`));
    assert.equal(callback.status, 302);
    assert.deepEqual(jar.names(h.proxyUrl).filter((name) => /^_oauth2_proxy(_\d+)?$/.test(name)), ['_oauth2_proxy']);
    const check = await h.authCheck(jar);
    assert.equal(check.status, 202);
    assert.equal(check.headers.get('x-auth-request-groups'), 'staff', 'the new session');
  });
});
