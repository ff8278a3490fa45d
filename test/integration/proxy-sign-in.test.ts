import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import { CookieJar } from '../helpers/reference-provider.ts';

describe('proxy sign-in against an independent OIDC provider', () => {
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({
      config: { setXAuthRequest: true, setAuthorizationHeader: true, passAccessToken: true },
      accounts: (login) => ({ email: `${login}@example.com`, email_verified: true, groups: login === 'ada' ? ['staff', 'admins'] : ['guests'] }),
    });
  });
  after(() => h.close());

  it('answers 401, not a redirect, to /oauth2/auth without a session', async () => {
    assert.equal((await h.authCheck(null)).status, 401);
  });

  it('signs in through start, provider and callback, then returns to the requested page', async () => {
    const { jar, callback } = await h.signIn('ada', { rd: '/private/notes/' });
    assert.equal(callback.status, 302);
    assert.equal(callback.headers.get('location'), '/private/notes/');
    assert.ok(jar.get(h.proxyUrl, '_oauth2_proxy'), 'a session cookie was set');
  });

  it('answers 202 with the X-Auth-Request headers and the ID token after sign-in', async () => {
    const { jar } = await h.signIn('ada');
    const response = await h.authCheck(jar);
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('x-auth-request-user'), 'ada');
    assert.equal(response.headers.get('x-auth-request-email'), 'ada@example.com');
    assert.equal(response.headers.get('x-auth-request-preferred-username'), 'ada');
    assert.equal(response.headers.get('x-auth-request-groups'), 'staff,admins');
    assert.ok(response.headers.get('x-auth-request-access-token'));
    const bearer = response.headers.get('authorization') ?? '';
    assert.match(bearer, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(bearer.split('.')[1], 'base64url').toString());
    assert.equal(claims.iss, h.op.issuer);
    assert.equal(claims.sub, 'ada');
  });

  it('writes the session cookie HttpOnly with Path and Max-Age from the configuration', async () => {
    const jar = new CookieJar();
    const callbackUrl = await h.reachCallback(jar, 'ada');
    const response = await jar.fetch(callbackUrl);
    const line = response.headers.getSetCookie().find((l) => l.startsWith('_oauth2_proxy='))!;
    assert.ok(line, 'session Set-Cookie present');
    assert.match(line, /; Path=\//);
    assert.match(line, new RegExp(`; Max-Age=${h.config.cookie.expireSeconds}`));
    assert.match(line, /; HttpOnly/);
  });

  it('issues a fresh session at each sign-in, replacing the previous one', async () => {
    const { jar } = await h.signIn('ada');
    const first = jar.get(h.proxyUrl, '_oauth2_proxy');
    // Forget the provider's own session so that it asks who is signing in this time.
    for (const name of jar.names(h.op.issuer)) if (name.startsWith('_session')) jar.byHost.get('127.0.0.1')!.delete(name);
    await h.signIn('bob', { jar });
    assert.notEqual(jar.get(h.proxyUrl, '_oauth2_proxy'), first);
    const response = await h.authCheck(jar);
    assert.equal(response.headers.get('x-auth-request-user'), 'bob');
  });

  it('serves the signed-in user at /oauth2/userinfo, and 401 without a session', async () => {
    const { jar } = await h.signIn('ada');
    const response = await jar.fetch(`${h.proxyUrl}/oauth2/userinfo`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { user: 'ada', email: 'ada@example.com', groups: ['staff', 'admins'], preferredUsername: 'ada' });
    assert.equal((await fetch(`${h.proxyUrl}/oauth2/userinfo`)).status, 401);
  });

  it('signs out: clears the cookie, redirects to a validated rd, and /oauth2/auth answers 401', async () => {
    const { jar } = await h.signIn('ada');
    const response = await jar.fetch(`${h.proxyUrl}/oauth2/sign_out?rd=${encodeURIComponent('/goodbye')}`);
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/goodbye');
    assert.equal(jar.get(h.proxyUrl, '_oauth2_proxy'), undefined);
    assert.equal((await h.authCheck(jar)).status, 401);
  });

  it('refuses a redirect to another host at sign-out', async () => {
    const jar = new CookieJar();
    const response = await jar.fetch(`${h.proxyUrl}/oauth2/sign_out?rd=${encodeURIComponent('https://evil.example/')}`);
    assert.equal(response.headers.get('location'), '/');
  });

  it('refuses a redirect to another host after sign-in', async () => {
    const { callback } = await h.signIn('ada', { rd: '//evil.example/phish' });
    assert.equal(callback.status, 302);
    assert.equal(callback.headers.get('location'), '/');
  });

  it('answers 403 to /oauth2/auth when the user is outside allowed_groups, 202 when inside', async () => {
    const { jar: outsider } = await h.signIn('eve');
    assert.equal((await h.authCheck(outsider, { query: 'allowed_groups=staff,ops' })).status, 403);
    const { jar: insider } = await h.signIn('ada');
    assert.equal((await h.authCheck(insider, { query: 'allowed_groups=ops,staff' })).status, 202);
  });

  it('applies allowed_emails and allowed_email_domains from the query string', async () => {
    const { jar } = await h.signIn('ada');
    assert.equal((await h.authCheck(jar, { query: 'allowed_emails=bob@example.com' })).status, 403);
    assert.equal((await h.authCheck(jar, { query: 'allowed_emails=ada@example.com' })).status, 202);
    assert.equal((await h.authCheck(jar, { query: 'allowed_email_domains=example.org' })).status, 403);
    assert.equal((await h.authCheck(jar, { query: 'allowed_email_domains=example.com' })).status, 202);
  });

  it('answers /ping and, once discovery is loaded, /ready', async () => {
    assert.equal((await fetch(`${h.proxyUrl}/ping`)).status, 200);
    assert.equal((await fetch(`${h.proxyUrl}/ready`)).status, 200);
  });
});
