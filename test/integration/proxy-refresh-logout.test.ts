import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { after, afterEach, before, describe, it } from 'node:test';
import { createCookieCodec } from '../../src/proxy/cookie-codec.ts';
import { parseCookieHeader } from '../../src/proxy/cookie-header.ts';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../src/proxy/oidc-client.ts';
import { createProxyServer } from '../../src/proxy/server.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import { CookieJar, logoutAtProvider, sendSubOnlyLogout } from '../helpers/reference-provider.ts';

const REFRESH_SECONDS = 60;

describe('proxy session refresh and back-channel logout', () => {
  let h: ProxyHarness;
  // What the provider says about a user from now on (its next ID token), when a test changes it
  const changedClaims = new Map<string, { email: string; email_verified: boolean }>();
  before(async () => {
    h = await startProxyHarness({
      config: { setXAuthRequest: true, passAccessToken: true, setAuthorizationHeader: true, cookie: { refreshSeconds: REFRESH_SECONDS } },
      accounts: (login) => changedClaims.get(login) ?? { email: `${login}@example.com`, email_verified: true },
    });
  });
  after(() => h.close());
  // Tests move the proxy's clock to make a refresh due; put it back so provider-issued tokens
  // (stamped with real time) are judged at real time again.
  let startMs = 0;
  before(() => { startMs = h.clock.nowMs(); });
  afterEach(() => { h.clock.advanceMs(startMs - h.clock.nowMs()); });

  const sessionOf = (jar: CookieJar) =>
    createCookieCodec(h.config.cookie.name, h.config.cookie.secret).read(parseCookieHeader(jar.header(h.proxyUrl)))!;

  it('refreshes a session that is due inside /oauth2/auth and sends the new cookie', async () => {
    const { jar } = await h.signIn('ada');
    const before = await h.authCheck(jar);
    assert.equal(before.headers.getSetCookie().length, 0, 'no cookie while the session is fresh');
    h.clock.advanceMs((REFRESH_SECONDS + 1) * 1000);
    const response = await h.authCheck(jar);
    assert.equal(response.status, 202);
    assert.ok(response.headers.getSetCookie().some((l) => l.startsWith('_oauth2_proxy=')), 'a refreshed cookie is sent');
    assert.notEqual(response.headers.get('x-auth-request-access-token'), before.headers.get('x-auth-request-access-token'), 'a new access token from the provider');
    assert.equal(sessionOf(jar).refreshAt, Math.floor(h.clock.nowMs() / 1000) + REFRESH_SECONDS);
  });

  it('spends the refresh token once when many checks arrive together', async () => {
    const { jar } = await h.signIn('ada');
    h.clock.advanceMs((REFRESH_SECONDS + 1) * 1000);
    const cookie = jar.header(h.proxyUrl);
    const responses = await Promise.all(Array.from({ length: 8 }, () => h.authCheck(null, { headers: { cookie } })));
    assert.deepEqual(responses.map((r) => r.status), Array(8).fill(202));
    const tokens = new Set(responses.map((r) => r.headers.get('x-auth-request-access-token')));
    assert.equal(tokens.size, 1, 'all checks share one refresh');
  });

  it('ends the session when the provider refuses the refresh', async () => {
    const { jar } = await h.signIn('ada');
    const { refreshToken } = sessionOf(jar);
    const revoked = await fetch(`${h.op.issuer}/token/revocation`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${h.config.clientId}:${h.config.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token' }),
    });
    assert.equal(revoked.status, 200);
    h.clock.advanceMs((REFRESH_SECONDS + 1) * 1000);
    const response = await h.authCheck(jar);
    assert.equal(response.status, 401);
    assert.ok(response.headers.getSetCookie().some((l) => l.startsWith('_oauth2_proxy=;') && l.includes('Max-Age=0')), 'the cookie is cleared');
  });

  it('after a restart, asks the provider about a session checked before it, so one the provider ended is refused at once', async () => {
    const { jar } = await h.signIn('ada');
    const cookie = jar.header(h.proxyUrl);
    const { refreshToken } = sessionOf(jar);
    const revoked = await fetch(`${h.op.issuer}/token/revocation`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${h.config.clientId}:${h.config.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token' }),
    });
    assert.equal(revoked.status, 200);
    // The same proxy started again a little later, well before the session's refresh falls due.
    h.clock.advanceMs(5_000);
    const restarted = await createProxyServer(h.config, { clock: h.clock });
    try {
      const { url } = await restarted.listen();
      await restarted.runtime.oidc.discover();
      const response = await fetch(`${url}/oauth2/auth`, { headers: { cookie } });
      assert.equal(response.status, 401);
      assert.ok(response.headers.getSetCookie().some((l) => l.startsWith('_oauth2_proxy=;') && l.includes('Max-Age=0')), 'the cookie is cleared');
      // the proxy that saw the sign-in still answers from its own memory until the refresh is due
      assert.equal((await h.authCheck(null, { headers: { cookie } })).status, 202);
    } finally {
      await restarted.close();
    }
  });

  it('ends the session when a refresh brings an email address the provider has not verified', async () => {
    const { jar } = await h.signIn('eve');
    assert.equal((await h.authCheck(jar)).headers.get('x-auth-request-email'), 'eve@example.com');
    changedClaims.set('eve', { email: 'ceo@example.com', email_verified: false });
    h.clock.advanceMs((REFRESH_SECONDS + 1) * 1000);
    const response = await h.authCheck(jar);
    assert.equal(response.status, 401);
    assert.ok(response.headers.getSetCookie().some((l) => l.startsWith('_oauth2_proxy=;') && l.includes('Max-Age=0')), 'the cookie is cleared');
  });

  it('ends the session on the next /oauth2/auth after the provider sends a back-channel logout', async () => {
    const { jar } = await h.signIn('ada');
    assert.equal((await h.authCheck(jar)).status, 202);
    const saved = jar.header(h.proxyUrl);
    await logoutAtProvider(jar, h.op.issuer);
    assert.equal((await h.authCheck(null, { headers: { cookie: saved } })).status, 401);
  });

  it('lets the user sign in again after a back-channel logout', async () => {
    const { jar } = await h.signIn('ada');
    await logoutAtProvider(jar, h.op.issuer);
    await h.signIn('ada', { jar });
    assert.equal((await h.authCheck(jar)).status, 202);
  });

  it('refuses a logout token that arrives minutes after it was issued (exp, and at most five minutes after iat): a replay ends nothing', async () => {
    const { jar } = await h.signIn('ada');
    const saved = jar.header(h.proxyUrl);
    // the provider stamps its token with the real time; to the proxy it arrives six minutes later
    h.clock.advanceMs(6 * 60_000);
    await logoutAtProvider(jar, h.op.issuer);
    h.clock.advanceMs(-6 * 60_000);
    assert.equal((await h.authCheck(null, { headers: { cookie: saved } })).status, 202, 'the session survives');
  });

  it('ends nothing when a logout token comes again: a sign-in made since survives the replay', async () => {
    const { jar } = await h.signIn('bea');
    const logoutToken = await sendSubOnlyLogout(h.op, h.config.clientId, 'bea');
    assert.equal((await h.authCheck(jar)).status, 401, 'the logout ended the session');
    h.clock.advanceMs(2000);
    const again = await h.signIn('bea');
    assert.equal((await h.authCheck(again.jar)).status, 202);
    h.clock.advanceMs(2000);
    const replay = await fetch(`${h.proxyUrl}/oauth2/backchannel-logout`, { method: 'POST', body: new URLSearchParams({ logout_token: logoutToken }) });
    assert.equal(replay.status, 200);
    assert.equal((await h.authCheck(again.jar)).status, 202, 'the new sign-in survives the replay');
  });

  it('answers 400 to a request without a logout token', async () => {
    const response = await fetch(`${h.proxyUrl}/oauth2/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    assert.equal(response.status, 400);
  });

  it('refuses an ID token presented as a logout token', async () => {
    const { jar } = await h.signIn('ada');
    const idToken = (await h.authCheck(jar)).headers.get('authorization')!.slice('Bearer '.length);
    const response = await fetch(`${h.proxyUrl}/oauth2/backchannel-logout`, { method: 'POST', body: new URLSearchParams({ logout_token: idToken }) });
    assert.equal(response.status, 400);
    assert.equal((await h.authCheck(jar)).status, 202, 'the session survives');
  });

  it('refuses a logout token signed with a key that is not the provider’s', async () => {
    const { jar } = await h.signIn('ada');
    const { sid, sub } = sessionOf(jar);
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })
      .setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt' }).setIssuer(h.op.issuer).setAudience(h.config.clientId)
      .setSubject(sub).setIssuedAt().setJti('forged').sign(privateKey);
    const response = await fetch(`${h.proxyUrl}/oauth2/backchannel-logout`, { method: 'POST', body: new URLSearchParams({ logout_token: forged }) });
    assert.equal(response.status, 400);
    assert.equal((await h.authCheck(jar)).status, 202, 'the session survives');
  });
});

describe('a logout token without jti (Back-Channel Logout 1.0 §2.4: REQUIRED; §2.6: validate)', () => {
  let h: ProxyHarness;
  // A key the provider publishes besides its own (the proxy fetches the JWKS through this fetch),
  // so the test can sign a logout token as the provider would, but leave out its jti.
  let providerKey: CryptoKey;
  let publicJwk: JWK;
  const withTestKey: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (!String(input).endsWith('/jwks')) return response;
    const { keys } = await response.json() as { keys: object[] };
    return Response.json({ keys: [...keys, publicJwk] });
  };
  before(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    providerKey = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
    h = await startProxyHarness({ fetch: withTestKey });
  });
  after(() => h.close());

  const logoutToken = (sub: string, jti: string | null) => {
    const token = new SignJWT({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
      .setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'logout+jwt' }).setIssuer(h.op.issuer).setAudience(h.config.clientId)
      .setSubject(sub).setIssuedAt(Math.floor(h.clock.nowMs() / 1000));
    return (jti === null ? token : token.setJti(jti)).sign(providerKey);
  };
  const post = async (token: string) => fetch(`${h.proxyUrl}/oauth2/backchannel-logout`, { method: 'POST', body: new URLSearchParams({ logout_token: token }) });

  it('answers 400 with the invalid-logout-token error and ends nothing', async () => {
    const { jar } = await h.signIn('ada');
    const response = await post(await logoutToken('ada', null));
    assert.equal(response.status, 400);
    assert.equal((await response.json() as { error: string }).error, 'invalid_logout_token');
    assert.equal((await h.authCheck(jar)).status, 202, 'the session survives');
  });

  it('accepts the same token with a jti (the test key is the provider\'s as far as the proxy knows)', async () => {
    const { jar } = await h.signIn('ada');
    assert.equal((await post(await logoutToken('ada', randomUUID()))).status, 200);
    assert.equal((await h.authCheck(jar)).status, 401, 'the session is over');
  });
});

describe('a refresh whose answer has no ID token (OIDC Core §12.2)', () => {
  let h: ProxyHarness;
  const groups = new Map<string, string[]>([['ada', ['admins']]]);
  // The provider answers refreshes without id_token, as §12.2 allows (the reference provider
  // always sends one, so the test takes it out of the answer).
  const withoutIdTokenOnRefresh: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (!String(init?.body ?? '').includes('grant_type=refresh_token')) return response;
    const answer = await response.json() as Record<string, unknown>;
    delete answer.id_token;
    return new Response(JSON.stringify(answer), { status: response.status, headers: { 'content-type': 'application/json' } });
  };
  before(async () => {
    h = await startProxyHarness({
      config: { cookie: { refreshSeconds: REFRESH_SECONDS }, scopes: ['openid', 'email', 'profile'] },
      accounts: (login) => ({ email: `${login}@example.com`, email_verified: true, groups: groups.get(login) ?? [] }),
      fetch: withoutIdTokenOnRefresh,
    });
  });
  after(() => h.close());

  it('reads the claims from userinfo, so a group the user left no longer lets them in', async () => {
    const { jar } = await h.signIn('ada');
    assert.equal((await h.authCheck(jar, { query: 'allowed_groups=admins' })).status, 202);
    groups.set('ada', []);
    h.clock.advanceMs((REFRESH_SECONDS + 1) * 1000);
    assert.equal((await h.authCheck(jar, { query: 'allowed_groups=admins' })).status, 403);
    assert.equal((await h.authCheck(jar)).status, 202, 'still signed in, only outside the group');
  });
});
