// `latchkey proxy`, configured with the deployment guide's Step 3 flags, against a real
// `latchkey id` as its provider: the whole sign-in with a (software) passkey, the identity that
// nginx receives, refresh with the id's rotating refresh tokens, and the three ways a session ends.
// The proxy's own port stands in for the edge here (test/e2e covers nginx and Caddy).
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { after, afterEach, before, describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { freePort } from '../helpers/free-port.ts';
import { startGuideProxy, type GuideProxy } from '../helpers/guide-proxy.ts';
import { authorizeWithPasskey, enrollUser, signOut, type IdBrowser } from '../helpers/id-passkey-flow.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const REFRESH_SECONDS = 60;
const AUTH_STATUSES = [202, 401, 403];

describe('latchkey proxy with the guide\'s flags against latchkey id', () => {
  let id: IdServer;
  let proxy: GuideProxy;
  let site: string;
  const clock = manualClock(Date.now());

  before(async () => {
    id = await startIdServer();
    const port = await freePort();
    site = `http://127.0.0.1:${port}`;
    await id.services.identity.groups.create({ name: 'friends' });
    // Step 6 of the guide: the client, with the proxy's callback, its back-channel logout endpoint
    // and the group whose members may use it.
    const { secret } = await id.services.clients.create({
      id: 'pocket-id-client', name: 'agents', redirectUris: [`${site}/oauth2/callback`],
      backchannelLogoutUri: `${site}/oauth2/backchannel-logout`, allowedGroups: ['friends'],
    });
    proxy = await startGuideProxy({
      issuerUrl: id.origin, siteUrl: site, clientSecret: secret!, port,
      // --allowed-group: the proxy checks the group too (and asks for the groups scope, so
      //   X-Auth-Request-Groups is sent); --cookie-refresh: the refresh behaviour under test.
      extraFlags: ['--allowed-group=friends', `--cookie-refresh=${REFRESH_SECONDS}s`],
    }, { clock });
  });
  after(async () => {
    await proxy?.close();
    await id?.close();
  });
  // Tests move the proxy's clock to make a refresh due; put it back for the next test.
  let startMs = 0;
  before(() => { startMs = clock.nowMs(); });
  afterEach(() => { clock.advanceMs(startMs - clock.nowMs()); });

  /** A friend with a passkey, signed out of the id, as after following their invitation. */
  async function friend(username: string) {
    // The address an admin enters counts as verified: the guide's flags refuse unverified emails.
    return enrollUser(id, { username, email: `${username}@example.com`, groups: ['friends'] });
  }

  /** /oauth2/sign_in → id (passkey) → /oauth2/callback; returns the callback's answer. */
  async function signIn(browser: IdBrowser, rd = '/private/') {
    const start = await browser.jar.fetch(`${site}/oauth2/sign_in?rd=${encodeURIComponent(rd)}`);
    assert.equal(start.status, 302, 'with --skip-provider-button the sign-in goes straight to the id');
    const outcome = await authorizeWithPasskey(browser, id, start.headers.get('location')!, `${site}/oauth2/callback`);
    assert.ok(outcome.callback, `the id did not send the browser back: ${outcome.finalStatus} ${outcome.finalBody.slice(0, 300)}`);
    const callback = await browser.jar.fetch(outcome.callback.href);
    return { callback, outcome };
  }

  /** GET /oauth2/auth as nginx's auth_request sends it: only the browser's cookie. */
  async function authCheck(cookie: string): Promise<Response> {
    const response = await fetch(`${site}/oauth2/auth`, { headers: cookie ? { cookie } : {} });
    await response.arrayBuffer();
    assert.ok(AUTH_STATUSES.includes(response.status), `/oauth2/auth answered ${response.status}; nginx accepts only 202, 401, 403`);
    return response;
  }
  const cookieOf = (browser: IdBrowser) => browser.jar.cookieHeader(new URL(site));

  async function eventually401(cookie: string, withinMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      const { status } = await authCheck(cookie);
      if (status === 401 || Date.now() - started > withinMs) return status;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('signs a friend in with their passkey at the id and returns them to the page they asked for', async () => {
    const { browser } = await friend('ada');
    const { callback, outcome } = await signIn(browser);
    assert.equal(outcome.signedInWithPasskey, true, 'the id asked for the passkey');
    assert.equal(callback.status, 302);
    assert.equal(callback.headers.get('location'), '/private/');
    assert.ok(browser.jar.has('_oauth2_proxy'), 'the session cookie is set');
  });

  it('refuses, with a page saying why, a friend whose email address is marked unverified', async () => {
    // The guide's flags have no --insecure-oidc-allow-unverified-email. An address an admin types in
    // counts as verified (as in Pocket ID); one explicitly marked unverified must not pass.
    const { browser } = await enrollUser(id, { username: 'unverified', email: 'unverified@example.com', groups: ['friends'], emailVerified: false });
    const { callback } = await signIn(browser);
    assert.equal(callback.status, 403);
    assert.match(await callback.text(), /email address is not verified/);
    assert.equal(browser.jar.has('_oauth2_proxy'), false);
  });

  it('answers /oauth2/auth with 202 and the identity headers nginx and Caddy pass on', async () => {
    const { browser, user } = await friend('grace');
    await signIn(browser);
    const response = await authCheck(cookieOf(browser));
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('x-auth-request-user'), user.id);
    assert.equal(response.headers.get('x-auth-request-email'), 'grace@example.com');
    assert.equal(response.headers.get('x-auth-request-groups'), 'friends');
    assert.equal(response.headers.get('x-auth-request-preferred-username'), 'grace');
  });

  it('sends Authorization: Bearer with an ID token that verifies against the id\'s JWKS', async () => {
    const { browser, user } = await friend('hedy');
    await signIn(browser);
    const authorization = (await authCheck(cookieOf(browser))).headers.get('authorization') ?? '';
    assert.match(authorization, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    const jwks = createRemoteJWKSet(new URL(`${id.origin}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(authorization.slice('Bearer '.length), jwks, { issuer: id.origin, audience: 'pocket-id-client' });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.sub, user.id);
    assert.equal(payload.email, 'hedy@example.com');
  });

  it('refreshes a due session with the id\'s refresh token and hands nginx the new cookie', async () => {
    const { browser } = await friend('katherine');
    await signIn(browser);
    const cookie = cookieOf(browser);
    const fresh = await authCheck(cookie);
    assert.equal(fresh.headers.getSetCookie().length, 0, 'nothing to refresh yet');
    clock.advanceMs((REFRESH_SECONDS + 1) * 1000);
    const refreshed = await authCheck(cookie);
    assert.equal(refreshed.status, 202);
    const renewed = refreshed.headers.getSetCookie().find((line) => line.startsWith('_oauth2_proxy='));
    assert.ok(renewed, 'a refreshed session cookie is sent');
    // (The id re-issues an identical ID token within the same second, so compare access tokens.)
    const accessToken = (response: Response) => response.headers.get('x-auth-request-access-token');
    assert.ok(accessToken(fresh), '--pass-access-token with --set-xauthrequest sends the access token');
    assert.notEqual(accessToken(refreshed), accessToken(fresh), 'a new access token from the id');
    assert.match(refreshed.headers.get('authorization') ?? '', /^Bearer /, 'and still an ID token');
    const next = `_oauth2_proxy=${renewed.split(';')[0].slice('_oauth2_proxy='.length)}`;
    const again = await authCheck(next);
    assert.equal(again.status, 202, 'the renewed cookie is a valid session');
    assert.equal(again.headers.getSetCookie().length, 0, 'and is not due for refresh');
  });

  it('ends the session at /oauth2/sign_out', async () => {
    const { browser } = await friend('margaret');
    await signIn(browser);
    assert.equal((await authCheck(cookieOf(browser))).status, 202);
    const out = await browser.jar.fetch(`${site}/oauth2/sign_out`);
    assert.equal(out.status, 302);
    assert.equal(browser.jar.has('_oauth2_proxy'), false, 'the cookie is deleted');
    assert.equal((await authCheck(cookieOf(browser))).status, 401);
  });

  it('ends the proxy session within a second when the user signs out at the id (back-channel logout)', async () => {
    const { browser } = await friend('barbara');
    await signIn(browser);
    const cookie = cookieOf(browser);
    assert.equal((await authCheck(cookie)).status, 202);
    await signOut(browser); // the id's own "Sign out" button: POST /logout with its CSRF token
    assert.equal(await eventually401(cookie, 1000), 401, 'the copied cookie no longer opens the private pages');
  });

  it('ends the proxy session within a second when an admin disables the user', async () => {
    const { browser, user } = await friend('frances');
    await signIn(browser);
    const cookie = cookieOf(browser);
    assert.equal((await authCheck(cookie)).status, 202);
    const { key } = await id.services.identity.apiKeys.create({ name: 'test admin' });
    const disabled = await fetch(`${id.origin}/api/users/${user.id}`, {
      method: 'PUT', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ disabled: true }),
    });
    assert.equal(disabled.status, 200, await disabled.text());
    assert.equal(await eventually401(cookie, 1000), 401);
  });
});
