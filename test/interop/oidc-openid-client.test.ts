// openid-client v6 (panva's certified relying party, not ours) against latchkey's provider.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { BrowserJar, parseForm } from '../helpers/browser-jar.ts';
import { authorizeInBrowser } from '../helpers/oidc-flow.ts';
import { OIDC_SESSION_COOKIE } from '../../src/oidc/provider-configuration.ts';
import { startOidcTestServer, type OidcTestServer } from '../helpers/oidc-test-server.ts';

const REDIRECT_URI = 'http://localhost:9/oauth2/callback';
const POST_LOGOUT_URI = 'http://localhost:9/signed-out';

describe('openid-client against latchkey id', () => {
  let server: OidcTestServer;
  let config: client.Configuration;
  let userId: string;

  before(async () => {
    server = await startOidcTestServer();
    userId = await server.createUser({ username: 'alice', email: 'alice@example.com', firstName: 'Alice', lastName: 'Liddell', groups: ['friends', 'family'] });
    const { clientId, secret } = await server.createClient({
      id: 'pocket-id-client', name: 'agents', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI], allowedGroups: ['friends'],
    });
    config = await client.discovery(new URL(server.issuer), clientId, secret!, undefined, { execute: [client.allowInsecureRequests] });
  });
  after(() => server.close());

  async function signIn(jar = new BrowserJar(), extra: Record<string, string> = {}, clientConfig = config, who = userId) {
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(clientConfig, {
      redirect_uri: REDIRECT_URI, scope: 'openid email profile groups', state, nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256', ...extra,
    });
    const outcome = await authorizeInBrowser(server, jar, url.href, who, REDIRECT_URI);
    assert.ok(outcome.callback, `no callback; stopped with ${outcome.finalStatus}: ${outcome.finalBody.slice(0, 200)}`);
    const tokens = await client.authorizationCodeGrant(clientConfig, outcome.callback, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, ...(extra.max_age ? { maxAge: Number(extra.max_age) } : {}) });
    // whether the browser was sent to sign in again although it was signed in
    const askedAgain = outcome.hops.some((hop) => hop.location?.includes('/test/sign-in') && hop.location.includes('again=1'));
    return { tokens, callback: outcome.callback, jar, askedAgain };
  }
  const signInAs = (who: string) => signIn(new BrowserJar(), {}, config, who);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  describe('auth_time, prompt=login and max_age (OIDC Core §3.1.2.1): a fresh sign-in is never claimed without one', () => {
    it('reports when the browser signed in, not when the app asked', async () => {
      // max_age makes the provider put auth_time in the ID token (OIDC Core §2)
      const first = await signIn(new BrowserJar(), { max_age: '3600' });
      const signedInAt = first.tokens.claims()!.auth_time!;
      assert.ok(Number.isInteger(signedInAt));
      await sleep(1100);
      const second = await signIn(first.jar, { max_age: '3600' });
      assert.equal(second.askedAgain, false);
      assert.equal(second.tokens.claims()!.auth_time, signedInAt);
      // The provider's own session gone (it expired, or another app in a browser signed in to
      // latchkey): the login it makes from the latchkey sign-in still carries that sign-in's time.
      const issuer = new URL(server.issuer);
      for (const name of [OIDC_SESSION_COOKIE, `${OIDC_SESSION_COOKIE}.sig`]) first.jar.store(issuer, new Response(null, { headers: { 'set-cookie': `${name}=; Path=/; Max-Age=0` } }));
      await sleep(1100);
      const third = await signIn(first.jar, { max_age: '3600' });
      assert.equal(third.askedAgain, false);
      assert.equal(third.tokens.claims()!.auth_time, signedInAt, 'not the time of this request');
    });

    it('asks a signed-in browser to sign in again for prompt=login, and auth_time is that new sign-in', async () => {
      const first = await signIn();
      await sleep(1100);
      const askedAt = Math.floor(Date.now() / 1000);
      const again = await signIn(first.jar, { prompt: 'login' });
      assert.equal(again.askedAgain, true, 'sent to the sign-in although signed in');
      assert.ok(again.tokens.claims()!.auth_time! >= askedAt, 'auth_time is the new sign-in');
    });

    it('asks again when the sign-in is older than max_age, and not when it is younger', async () => {
      const first = await signIn();
      const recent = await signIn(first.jar, { max_age: '3600' });
      assert.equal(recent.askedAgain, false);
      await sleep(2100);
      const askedAt = Math.floor(Date.now() / 1000);
      const stale = await signIn(first.jar, { max_age: '1' });
      assert.equal(stale.askedAgain, true);
      assert.ok(stale.tokens.claims()!.auth_time! >= askedAt);
    });
  });

  it('advertises Pocket ID\'s endpoint paths in discovery', () => {
    const metadata = config.serverMetadata();
    assert.equal(metadata.issuer, server.issuer);
    assert.equal(metadata.authorization_endpoint, `${server.issuer}/authorize`);
    assert.equal(metadata.token_endpoint, `${server.issuer}/api/oidc/token`);
    assert.equal(metadata.userinfo_endpoint, `${server.issuer}/api/oidc/userinfo`);
    assert.equal(metadata.jwks_uri, `${server.issuer}/.well-known/jwks.json`);
    assert.equal(metadata.end_session_endpoint, `${server.issuer}/api/oidc/end-session`);
    assert.equal(metadata.introspection_endpoint, `${server.issuer}/api/oidc/introspect`);
    assert.equal(metadata.revocation_endpoint, `${server.issuer}/api/oidc/revoke`);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(metadata.id_token_signing_alg_values_supported, ['RS256']);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
  });

  it('serves the same metadata at the RFC 8414 address', async () => {
    const response = await fetch(`${server.issuer}/.well-known/oauth-authorization-server`);
    assert.equal(response.status, 200);
    const metadata = await response.json() as Record<string, unknown>;
    assert.equal(metadata.issuer, server.issuer);
    assert.equal(metadata.token_endpoint, `${server.issuer}/api/oidc/token`);
  });

  it('completes the code flow with PKCE, state and nonce and returns an RS256 ID token with the user\'s claims', async () => {
    const { tokens, callback } = await signIn();
    assert.equal(callback.searchParams.get('iss'), server.issuer, 'RFC 9207 iss in the authorization response');
    const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0], 'base64url').toString()) as { alg: string };
    assert.equal(header.alg, 'RS256');
    const claims = tokens.claims()!;
    assert.equal(claims.sub, userId);
    assert.equal(claims.aud, 'pocket-id-client');
    assert.equal(claims.email, 'alice@example.com');
    assert.equal(claims.email_verified, true);
    assert.equal(claims.preferred_username, 'alice');
    assert.equal(claims.name, 'Alice Liddell');
    assert.deepEqual(claims.groups, ['family', 'friends']);
  });

  it('answers userinfo with the profile, email and group names', async () => {
    const { tokens } = await signIn();
    const info = await client.fetchUserInfo(config, tokens.access_token, userId);
    assert.equal(info.sub, userId);
    assert.equal(info.email, 'alice@example.com');
    assert.equal(info.given_name, 'Alice');
    assert.equal(info.family_name, 'Liddell');
    assert.deepEqual(info.groups, ['family', 'friends']);
  });

  it('rotates refresh tokens and refuses a refresh token once it has been used', async () => {
    const { tokens } = await signIn();
    assert.ok(tokens.refresh_token, 'a refresh token is issued with the code exchange');
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'a new refresh token replaces the old');
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
  });

  it('keeps no token, code or session cookie it handed out in the database, and they all still work', async () => {
    const { tokens, callback, jar } = await signIn();
    const sessionCookie = jar.cookieHeader(new URL(server.issuer)).split('; ').find((pair) => pair.startsWith(`${OIDC_SESSION_COOKIE}=`))?.split('=')[1];
    assert.ok(sessionCookie, 'the browser holds a provider session');
    const handedOut = { access_token: tokens.access_token, refresh_token: tokens.refresh_token!, code: callback.searchParams.get('code')!, session_cookie: sessionCookie };
    // what a copy of the database or a backup would give away
    const rows = await server.db.selectFrom('oidc_payloads').selectAll().execute();
    const dump = JSON.stringify(rows);
    for (const [what, value] of Object.entries(handedOut)) assert.ok(!dump.includes(value), `the ${what} is not in the database`);
    assert.equal((await client.fetchUserInfo(config, tokens.access_token, userId)).sub, userId);
    const again = await signIn(jar);
    assert.equal(again.askedAgain, false, 'the provider session is found by its cookie');
    assert.ok((await client.refreshTokenGrant(config, tokens.refresh_token!)).access_token);
  });

  it('records token_granted and oidc_login in the audit trail', async () => {
    await signIn();
    const login = server.auditEvents.find((e) => e.event === 'oidc_login');
    const granted = server.auditEvents.find((e) => e.event === 'token_granted');
    assert.equal(login?.userId, userId);
    assert.equal(login?.clientId, 'pocket-id-client');
    assert.equal(granted?.userId, userId);
    assert.equal(granted?.clientId, 'pocket-id-client');
    assert.ok(granted?.ip, 'the client address is recorded');
  });

  it('introspects an active access token and reports a revoked one inactive', async () => {
    const { tokens } = await signIn();
    const active = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.sub, userId);
    assert.equal(active.client_id, 'pocket-id-client');
    await client.tokenRevocation(config, tokens.access_token);
    const revoked = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(revoked.active, false);
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, userId));
  });

  it("refuses to show another client its tokens, as Pocket ID does: introspection is for the client they were issued to", async () => {
    const { tokens } = await signIn();
    const other = await server.createClient({ name: 'another app', redirectUris: ['http://localhost:9/other/callback'] });
    const otherConfig = await client.discovery(new URL(server.issuer), other.clientId, other.secret!, undefined, { execute: [client.allowInsecureRequests] });
    for (const token of [tokens.access_token, tokens.refresh_token!]) {
      const seen = await client.tokenIntrospection(otherConfig, token);
      assert.deepEqual(seen, { active: false }, 'nothing about the token or its user');
    }
    assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, true, 'its own client still sees it');
  });

  it('reports a token inactive once its user may no longer use the client, as userinfo and refresh do', async () => {
    const bob = await server.createUser({ username: 'bob-leaves', email: 'bob-leaves@example.com', groups: ['friends'] });
    const { tokens } = await signInAs(bob);
    assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, true);
    // bob leaves the client's only allowed group
    await server.db.deleteFrom('user_groups').where('user_id', '=', bob).execute();
    for (const token of [tokens.access_token, tokens.refresh_token!]) assert.deepEqual(await client.tokenIntrospection(config, token), { active: false });
  });

  it('forgets a deleted client\'s tokens, so a client registered again under its id cannot use them', async () => {
    const app = await server.createClient({ id: 'short-lived-app', name: 'short-lived', redirectUris: [REDIRECT_URI], allowedGroups: ['friends'] });
    const appConfig = await client.discovery(new URL(server.issuer), app.clientId, app.secret!, undefined, { execute: [client.allowInsecureRequests] });
    const { tokens } = await signIn(new BrowserJar(), {}, appConfig);
    await server.clients.delete(app.clientId);
    const again = await server.createClient({ id: 'short-lived-app', name: 'another app, same id', redirectUris: [REDIRECT_URI], isPublic: true, allowedGroups: ['friends'] });
    const againConfig = await client.discovery(new URL(server.issuer), again.clientId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    await assert.rejects(client.fetchUserInfo(againConfig, tokens.access_token, userId));
    await assert.rejects(client.refreshTokenGrant(againConfig, tokens.refresh_token!), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
  });

  it('forgets a client\'s tokens when it stops being confidential: its refresh tokens were bound to the secret', async () => {
    const app = await server.createClient({ id: 'turns-public', name: 'turns public', redirectUris: [REDIRECT_URI], allowedGroups: ['friends'] });
    const appConfig = await client.discovery(new URL(server.issuer), app.clientId, app.secret!, undefined, { execute: [client.allowInsecureRequests] });
    const { tokens } = await signIn(new BrowserJar(), {}, appConfig);
    await server.clients.update(app.clientId, { isPublic: true });
    const publicConfig = await client.discovery(new URL(server.issuer), app.clientId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    await assert.rejects(client.refreshTokenGrant(publicConfig, tokens.refresh_token!), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
  });

  it('refuses a revoked refresh token', async () => {
    const { tokens } = await signIn();
    await client.tokenRevocation(config, tokens.refresh_token!);
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
  });

  it('signs out through RP-initiated logout and returns to the registered post-logout URI with state', async () => {
    const { tokens, jar } = await signIn();
    const url = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'bye' });
    const confirm = await jar.fetch(url);
    assert.equal(confirm.status, 200);
    const form = parseForm(await confirm.text(), url.href);
    const done = await jar.fetch(form.action, { method: 'POST', body: new URLSearchParams({ ...form.fields, logout: 'yes' }) });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), `${POST_LOGOUT_URI}?state=bye`);
    assert.ok(!jar.has('latchkey_oidc_session'), 'the provider session cookie is cleared');
    assert.ok(server.endedSessions.includes(userId), 'the host is told the user signed out');
  });

  it('refuses a post_logout_redirect_uri that is not registered exactly', async () => {
    const { tokens, jar } = await signIn();
    const url = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${POST_LOGOUT_URI}/` });
    const response = await jar.fetch(url);
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null);
    // A sign-out page, naming what to fix, not "Invalid sign-in request".
    const page = await response.text();
    assert.match(page, /Unregistered return address/);
    assert.match(page, /send you back after signing out to an address that is not registered/);
    assert.doesNotMatch(page, /sign-in request/);
  });
});
