// openid-client v6 (panva's certified relying party, not ours) against latchkey's provider.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { BrowserJar, parseForm } from '../helpers/browser-jar.ts';
import { authorizeInBrowser } from '../helpers/oidc-flow.ts';
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

  async function signIn(jar = new BrowserJar()) {
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI, scope: 'openid email profile groups', state, nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
    });
    const outcome = await authorizeInBrowser(server, jar, url.href, userId, REDIRECT_URI);
    assert.ok(outcome.callback, `no callback; stopped with ${outcome.finalStatus}: ${outcome.finalBody.slice(0, 200)}`);
    const tokens = await client.authorizationCodeGrant(config, outcome.callback, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce });
    return { tokens, callback: outcome.callback, jar };
  }

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
  });
});
