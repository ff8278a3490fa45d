import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { BrowserJar } from '../helpers/browser-jar.ts';
import { authorizeInBrowser } from '../helpers/oidc-flow.ts';
import { startOidcTestServer, TEST_AUTH_TIME_COOKIE, TEST_USER_COOKIE, type OidcTestServer } from '../helpers/oidc-test-server.ts';

const REDIRECT_URI = 'https://app.example.com/oauth2/callback';
const OTHER_URI = 'https://other.example.com/callback';
const SESSION_COOKIE = 'latchkey_oidc_session';

// prompt=none from a browser signed in to latchkey (its web session) but without a provider session:
// it succeeds for an app the user already uses, as with Pocket ID's single session, and fails
// without UI, as before, whenever an interactive request would have had to ask for something.
describe('prompt=none with the latchkey web session and no provider session', () => {
  let server: OidcTestServer;
  let app: { clientId: string; secret: string };
  let other: { clientId: string; secret: string };

  before(async () => {
    server = await startOidcTestServer();
    const a = await server.createClient({ id: 'app', name: 'App', redirectUris: [REDIRECT_URI], allowedGroups: ['friends'] });
    const b = await server.createClient({ id: 'other', name: 'Other', redirectUris: [OTHER_URI], allowedGroups: ['friends'] });
    app = { clientId: a.clientId, secret: a.secret! };
    other = { clientId: b.clientId, secret: b.secret! };
  });
  after(() => server.close());

  const nowSeconds = () => Math.floor(Date.now() / 1000);

  /** A browser with only a latchkey web session (signed in on the account page, say), made at `authTime`. */
  function webSignedIn(userId: string, authTime = nowSeconds()): BrowserJar {
    const jar = new BrowserJar();
    jar.store(new URL(server.issuer), new Response(null, { headers: [
      ['set-cookie', `${TEST_USER_COOKIE}=${userId}; Path=/`], ['set-cookie', `${TEST_AUTH_TIME_COOKIE}=${authTime}; Path=/`],
    ] }));
    return jar;
  }

  async function authorize(jar: BrowserJar, userId: string | null, extra: Record<string, string> = {}, target = { client: app, redirectUri: REDIRECT_URI }) {
    const verifier = client.randomPKCECodeVerifier();
    const url = `${server.issuer}/authorize?${new URLSearchParams({
      response_type: 'code', scope: 'openid email', client_id: target.client.clientId, redirect_uri: target.redirectUri, state: 's',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
    })}`;
    const outcome = await authorizeInBrowser(server, jar, url, userId, target.redirectUri);
    return { outcome, verifier, code: outcome.callback?.searchParams.get('code') ?? null, error: outcome.callback?.searchParams.get('error') ?? null };
  }

  const silently = (jar: BrowserJar, extra: Record<string, string> = {}, target?: { client: typeof app; redirectUri: string }) =>
    authorize(jar, null, { prompt: 'none', ...extra }, target);

  async function exchange(code: string, verifier: string, credentials = app, redirectUri = REDIRECT_URI) {
    const response = await fetch(`${server.issuer}/api/oidc/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${credentials.clientId}:${credentials.secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', redirect_uri: redirectUri, code, code_verifier: verifier }),
    });
    assert.equal(response.status, 200);
    return await response.json() as { id_token: string; access_token: string; refresh_token: string };
  }

  const refresh = (refreshToken: string) => fetch(`${server.issuer}/api/oidc/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${app.clientId}:${app.secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });

  const grantsOf = async (userId: string) => (await server.db.selectFrom('oidc_payloads').select(['id', 'payload'])
    .where('model', '=', 'Grant').where('account_id', '=', userId).execute()).map((row) => ({ id: row.id, ...JSON.parse(row.payload) as { clientId: string } }));

  /** Stored provider sessions signed in as `userId`. */
  const providerLoginsOf = async (userId: string) => (await server.db.selectFrom('oidc_payloads').select('payload')
    .where('model', '=', 'Session').execute()).filter((row) => (JSON.parse(row.payload) as { accountId?: string }).accountId === userId).length;

  const sessionIdIn = (jar: BrowserJar) => jar.cookieHeader(new URL(server.issuer)).split('; ').find((c) => c.startsWith(`${SESSION_COOKIE}=`))!.slice(SESSION_COOKIE.length + 1);

  /** A user who has used App once, in a browser of their own (so they hold a live grant for it). */
  async function userWhoUsedApp(username: string) {
    const userId = await server.createUser({ username, groups: ['friends'] });
    const first = await authorize(new BrowserJar(), userId);
    assert.ok(first.code);
    return userId;
  }

  it('issues a code for an app the user already uses, signed in as the web session\'s user at its sign-in time', async () => {
    const alice = await userWhoUsedApp('alice');
    const signedInAt = nowSeconds() - 120;
    const jar = webSignedIn(alice, signedInAt);
    const before = server.auditEvents.length;

    // max_age makes the ID token carry auth_time (OIDC Core §2)
    const { code, verifier, outcome } = await silently(jar, { max_age: '3600' });
    assert.ok(code, `expected a code, got ${outcome.callback?.href ?? outcome.finalStatus}`);
    assert.equal(outcome.hops.length, 1, 'no interaction, no page: straight back to the app');
    const claims = decodeJwt((await exchange(code, verifier)).id_token);
    assert.equal(claims.sub, alice);
    assert.equal(claims.auth_time, signedInAt);
    assert.ok(jar.has(SESSION_COOKIE), 'the browser now has a provider session too');
    assert.ok(server.auditEvents.slice(before).some((e) => e.event === 'oidc_login' && e.userId === alice && e.clientId === 'app'));

    // the provider session now exists, so the next silent request takes the ordinary path
    assert.ok((await silently(jar)).code);
  });

  it('gives the new browser its own grant, so signing out there leaves the first browser signed in', async () => {
    const bob = await server.createUser({ username: 'bob', groups: ['friends'] });
    const firstJar = new BrowserJar();
    const first = await authorize(firstJar, bob);
    const firstTokens = await exchange(first.code!, first.verifier);

    const jar = webSignedIn(bob);
    const silent = await silently(jar);
    assert.ok(silent.code);
    await exchange(silent.code, silent.verifier);
    assert.equal((await grantsOf(bob)).filter((g) => g.clientId === 'app').length, 2);

    await server.oidc.logoutSession(bob, sessionIdIn(jar));
    assert.equal((await refresh(firstTokens.refresh_token)).status, 200);
  });

  it('answers login_required, not interaction_required, when the provider session outlived the web session', async () => {
    const fay = await server.createUser({ username: 'fay', groups: ['friends'] });
    const jar = new BrowserJar();
    assert.ok((await authorize(jar, fay)).code, 'a provider session for fay');
    // signed out of latchkey (or the web session expired), the provider's session still there
    jar.store(new URL(server.issuer), new Response(null, { headers: [['set-cookie', `${TEST_USER_COOKIE}=; Path=/; Max-Age=0`]] }));
    assert.equal((await silently(jar)).error, 'login_required');
  });

  it('answers login_required without a web session', async () => {
    const jar = new BrowserJar();
    const { error } = await silently(jar);
    assert.equal(error, 'login_required');
    assert.equal(jar.has(SESSION_COOKIE), false);
  });

  it('answers login_required for a disabled user, and leaves no provider session', async () => {
    const carol = await userWhoUsedApp('carol');
    await server.db.updateTable('users').set({ disabled: 1 }).where('id', '=', carol).execute();
    const jar = webSignedIn(carol);
    assert.equal((await silently(jar)).error, 'login_required');
    assert.equal(jar.has(SESSION_COOKIE), false);
  });

  it('answers login_required for a user outside the app\'s groups', async () => {
    const dave = await server.createUser({ username: 'dave', groups: ['strangers'] });
    assert.equal((await silently(webSignedIn(dave))).error, 'login_required');
  });

  it('honours max_age: a web sign-in older than it answers login_required, a newer one a code', async () => {
    const erin = await userWhoUsedApp('erin');
    const stale = webSignedIn(erin, nowSeconds() - 3600);
    assert.equal((await silently(stale, { max_age: '60' })).error, 'login_required');
    assert.equal(stale.has(SESSION_COOKIE), false);
    assert.ok((await silently(webSignedIn(erin, nowSeconds() - 10), { max_age: '600' })).code);
  });

  it('answers login_required when id_token_hint names someone else', async () => {
    const frank = await userWhoUsedApp('frank');
    const grace = await server.createUser({ username: 'grace', groups: ['friends'] });
    const granted = await authorize(new BrowserJar(), grace);
    const hint = (await exchange(granted.code!, granted.verifier)).id_token;
    const jar = webSignedIn(frank);
    const logins = await providerLoginsOf(frank);
    assert.equal((await silently(jar, { id_token_hint: hint })).error, 'login_required');
    assert.equal(jar.has(SESSION_COOKIE), false, 'a failed silent request leaves the browser no provider login');
    assert.equal(await providerLoginsOf(frank), logins, 'nor a stored one');
  });

  it('answers consent_required for an app the user never used, and grants nothing', async () => {
    const heidi = await userWhoUsedApp('heidi');
    const jar = webSignedIn(heidi);
    const logins = await providerLoginsOf(heidi);
    const before = server.auditEvents.length;
    const { error } = await silently(jar, {}, { client: other, redirectUri: OTHER_URI });
    assert.equal(error, 'consent_required');
    assert.deepEqual((await grantsOf(heidi)).map((g) => g.clientId), ['app']);
    assert.equal(jar.has(SESSION_COOKIE), false, 'a failed silent request leaves the browser no provider login');
    assert.equal(await providerLoginsOf(heidi), logins, 'nor a stored one');
    assert.equal(server.auditEvents.slice(before).some((e) => e.event === 'oidc_login'), false);
  });

  it('answers consent_required for scopes the user never granted the app', async () => {
    const ivan = await userWhoUsedApp('ivan');
    const jar = webSignedIn(ivan);
    assert.equal((await silently(jar, { scope: 'openid email profile' })).error, 'consent_required');
    assert.equal((await grantsOf(ivan)).length, 1, 'a failed silent request stores no grant');
    assert.equal(jar.has(SESSION_COOKIE), false, 'and leaves no provider login');
  });

  it('answers consent_required after the user signed out of the app', async () => {
    const judy = await userWhoUsedApp('judy');
    await server.oidc.signOutOfApp(judy, 'app');
    assert.equal((await silently(webSignedIn(judy))).error, 'consent_required');
  });
});
