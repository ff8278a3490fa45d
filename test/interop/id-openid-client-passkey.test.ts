// openid-client v6 (panva's certified relying party, not ours) against a real `latchkey id`,
// with the user signing in by passkey at the provider: the whole path a person takes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { parseForm } from '../helpers/browser-jar.ts';
import { authorizeWithPasskey, enrollUser, type IdBrowser } from '../helpers/id-passkey-flow.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const REDIRECT_URI = 'http://localhost:9/oauth2/callback';
const POST_LOGOUT_URI = 'http://localhost:9/signed-out';
const insecure = { execute: [client.allowInsecureRequests] };

describe('openid-client against latchkey id with passkey sign-in', () => {
  let id: IdServer;
  let confidential: client.Configuration;
  let publicClient: client.Configuration;
  let alice: { id: string };
  let browser: IdBrowser;

  before(async () => {
    id = await startIdServer();
    ({ user: alice, browser } = await enrollUser(id, { username: 'alice', email: 'alice@example.com', firstName: 'Alice', lastName: 'Liddell', groups: ['friends', 'family'] }));
    const { client: made, secret } = await id.services.clients.create({
      name: 'agents', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI], allowedGroups: ['friends'],
    });
    confidential = await client.discovery(new URL(id.origin), made.id, secret!, undefined, insecure);
    const { client: spa } = await id.services.clients.create({ name: 'spa', redirectUris: [REDIRECT_URI], isPublic: true, allowedGroups: ['friends'] });
    publicClient = await client.discovery(new URL(id.origin), spa.id, undefined, client.None(), insecure);
  });
  after(() => id.close());

  async function authorize(config: client.Configuration, extra: Record<string, string> = {}) {
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI, scope: 'openid email profile groups', state, nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256', ...extra,
    });
    const outcome = await authorizeWithPasskey(browser, id, url.href, REDIRECT_URI);
    assert.ok(outcome.callback, `no callback; stopped with ${outcome.finalStatus}: ${outcome.finalBody.slice(0, 200)}`);
    const tokens = await client.authorizationCodeGrant(config, outcome.callback, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce });
    return { tokens, outcome };
  }

  it('sends a signed-out browser through the passkey sign-in page and back to the client with a code', async () => {
    const { outcome } = await authorize(confidential);
    assert.equal(outcome.signedInWithPasskey, true);
    const paths = outcome.hops.map((h) => new URL(h.url).pathname);
    assert.equal(paths[0], '/authorize');
    assert.ok(paths.some((p) => p.startsWith('/interaction/')), `hops: ${paths.join(' → ')}`);
    const signIn = outcome.hops.find((h) => new URL(h.url).pathname === '/login')!;
    assert.match(new URL(signIn.url).searchParams.get('next')!, /^\/interaction\//);
    assert.equal(outcome.callback!.searchParams.get('iss'), id.origin);
  });

  it('issues an ID token with the passkey user\'s sub, email, username and groups', async () => {
    const { tokens } = await authorize(confidential);
    const claims = tokens.claims()!;
    assert.equal(claims.sub, alice.id);
    assert.equal(claims.email, 'alice@example.com');
    assert.equal(claims.preferred_username, 'alice');
    assert.equal(claims.name, 'Alice Liddell');
    assert.deepEqual(claims.groups, ['family', 'friends']);
    assert.equal(JSON.parse(Buffer.from(tokens.id_token!.split('.')[0], 'base64url').toString()).alg, 'RS256');
  });

  it('does not ask for the passkey again while the browser is signed in', async () => {
    const { outcome } = await authorize(confidential);
    assert.equal(outcome.signedInWithPasskey, false);
  });

  it('asks for the passkey again for prompt=login although the browser is signed in, and auth_time is that new sign-in', async () => {
    // max_age makes the provider put auth_time in the ID token (OIDC Core §2)
    const before = (await authorize(confidential, { max_age: '3600' })).tokens.claims()!.auth_time!;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const askedAt = Math.floor(Date.now() / 1000);
    const { outcome, tokens } = await authorize(confidential, { prompt: 'login', max_age: '3600' });
    assert.equal(outcome.signedInWithPasskey, true, 'the passkey was asked for');
    const signInPage = outcome.hops.find((h) => new URL(h.url).pathname === '/login')!;
    assert.equal(signInPage.status, 200, 'the sign-in page is shown, not skipped');
    const shown = await browser.page(new URL(signInPage.url).pathname + new URL(signInPage.url).search);
    assert.match(shown.html, /asks you to confirm it is you/, 'and says why');
    const renewed = tokens.claims()!.auth_time!;
    assert.ok(renewed >= askedAt && renewed > before, `auth_time ${renewed}, asked at ${askedAt}, before ${before}`);
    const { outcome: next, tokens: later } = await authorize(confidential, { max_age: '3600' });
    assert.equal(next.signedInWithPasskey, false, 'and not again after that');
    assert.equal(later.claims()!.auth_time, renewed, 'auth_time stays the passkey sign-in, not the later request');
  });

  it('answers userinfo for the access token', async () => {
    const { tokens } = await authorize(confidential);
    const info = await client.fetchUserInfo(confidential, tokens.access_token, alice.id);
    assert.equal(info.sub, alice.id);
    assert.equal(info.email, 'alice@example.com');
    assert.deepEqual(info.groups, ['family', 'friends']);
  });

  it('rotates the refresh token and refuses the used one', async () => {
    const { tokens } = await authorize(confidential);
    const refreshed = await client.refreshTokenGrant(confidential, tokens.refresh_token!);
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token);
    assert.equal(refreshed.claims()?.sub, alice.id);
    await assert.rejects(client.refreshTokenGrant(confidential, tokens.refresh_token!), (error: client.ResponseBodyError) => error.error === 'invalid_grant');
  });

  it('stops answering userinfo for a revoked access token', async () => {
    const { tokens } = await authorize(confidential);
    await client.tokenRevocation(confidential, tokens.access_token);
    assert.equal((await client.tokenIntrospection(confidential, tokens.access_token)).active, false);
    await assert.rejects(client.fetchUserInfo(confidential, tokens.access_token, alice.id));
  });

  it('signs out through RP-initiated logout, after which the next authorization needs the passkey again', async () => {
    const { tokens } = await authorize(confidential);
    const url = client.buildEndSessionUrl(confidential, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'bye' });
    const confirm = await browser.jar.fetch(url);
    assert.equal(confirm.status, 200);
    const form = parseForm(await confirm.text(), url.href);
    const done = await browser.jar.fetch(form.action, { method: 'POST', body: new URLSearchParams({ ...form.fields, logout: 'yes' }) });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), `${POST_LOGOUT_URI}?state=bye`);
    assert.equal((await browser.page('/account')).response.status, 302, 'the latchkey sign-in ended too');
    const again = await authorize(confidential);
    assert.equal(again.outcome.signedInWithPasskey, true);
    assert.equal(again.tokens.claims()?.sub, alice.id);
  });

  it("sends the provider's own pages with the security headers of every other latchkey page", async () => {
    const NAMES = ['content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy'];
    const expected = (await browser.page('/login')).response.headers;
    assert.equal(expected.get('x-frame-options'), 'DENY');
    const { tokens } = await authorize(confidential);
    const pages = {
      // its button signs the browser out everywhere: it must never load in another site's frame
      'the sign-out confirmation': await browser.jar.fetch(client.buildEndSessionUrl(confidential, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI })),
      'an error page': await browser.jar.fetch(`${id.origin}/authorize?client_id=nobody&response_type=code&scope=openid`),
      'discovery': await fetch(`${id.origin}/.well-known/openid-configuration`),
    };
    for (const [page, response] of Object.entries(pages))
      for (const name of NAMES) {
        // the confirmation's address holds the ID token (id_token_hint): it names only the origin as Referer
        const want = name === 'referrer-policy' && page === 'the sign-out confirmation' ? 'strict-origin' : expected.get(name);
        assert.equal(response.headers.get(name), want, `${name} on ${page}`);
      }
    assert.equal(pages['the sign-out confirmation'].status, 200);
    assert.equal(pages['an error page'].status, 400);
    // styled by the shared stylesheet, and named after the app set in the admin settings
    const appName = id.services.identity.settings.current().appName;
    const confirmation = await pages['the sign-out confirmation'].text();
    assert.match(confirmation, /href="\/assets\/style\.css"/);
    assert.ok(confirmation.includes(`Sign out of ${appName}?`), confirmation);
    assert.ok((await pages['an error page'].text()).includes(`· ${appName}</title>`));
  });

  it('lets a public client sign in with PKCE and no secret', async () => {
    const { tokens } = await authorize(publicClient);
    assert.equal(tokens.claims()?.sub, alice.id);
    assert.equal(tokens.claims()?.aud, publicClient.clientMetadata().client_id);
  });

  it('refuses a public client\'s authorization request without PKCE', async () => {
    const url = client.buildAuthorizationUrl(publicClient, { redirect_uri: REDIRECT_URI, scope: 'openid', state: client.randomState() });
    const outcome = await authorizeWithPasskey(browser, id, url.href, REDIRECT_URI);
    assert.ok(outcome.callback, `stopped at ${outcome.finalStatus}`);
    assert.equal(outcome.callback.searchParams.get('error'), 'invalid_request');
    assert.equal(outcome.callback.searchParams.get('code'), null);
  });
});
