import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { BrowserJar } from '../helpers/browser-jar.ts';
import { authorizeInBrowser } from '../helpers/oidc-flow.ts';
import { startOidcTestServer, type OidcTestServer } from '../helpers/oidc-test-server.ts';

const REDIRECT_URI = 'https://app.example.com/oauth2/callback';

describe('the OIDC provider refuses what it must', () => {
  let server: OidcTestServer;
  let alice: string;
  let app: { clientId: string; secret: string };
  let other: { clientId: string; secret: string };

  before(async () => {
    server = await startOidcTestServer();
    alice = await server.createUser({ username: 'alice', groups: ['friends'] });
    const a = await server.createClient({ id: 'app', name: 'App', redirectUris: [REDIRECT_URI], allowedGroups: ['friends'] });
    const b = await server.createClient({ id: 'other', name: 'Other', redirectUris: ['https://other.example.com/callback'], allowedGroups: ['friends'] });
    app = { clientId: a.clientId, secret: a.secret! };
    other = { clientId: b.clientId, secret: b.secret! };
  });
  after(() => server.close());

  const authorizeUrl = (params: Record<string, string>) =>
    `${server.issuer}/authorize?${new URLSearchParams({ response_type: 'code', scope: 'openid email', ...params })}`;

  async function codeFor(clientId: string, redirectUri: string, userId: string, extra: Record<string, string> = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const challenge = await client.calculatePKCECodeChallenge(verifier);
    const outcome = await authorizeInBrowser(server, new BrowserJar(), authorizeUrl({
      client_id: clientId, redirect_uri: redirectUri, state: 's', code_challenge: challenge, code_challenge_method: 'S256', ...extra,
    }), userId, redirectUri);
    return { outcome, code: outcome.callback?.searchParams.get('code') ?? null, verifier };
  }

  const exchange = (credentials: { clientId: string; secret: string }, body: Record<string, string>) =>
    fetch(`${server.issuer}/api/oidc/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${credentials.clientId}:${credentials.secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', redirect_uri: REDIRECT_URI, ...body }),
    });

  describe('redirect URIs are matched exactly, and a mismatch shows a page instead of redirecting', () => {
    const variants: [string, string][] = [
      ['scheme', 'http://app.example.com/oauth2/callback'],
      ['host', 'https://evil.example.com/oauth2/callback'],
      ['port', 'https://app.example.com:8443/oauth2/callback'],
      ['path', 'https://app.example.com/oauth2/callbackx'],
      ['trailing slash', 'https://app.example.com/oauth2/callback/'],
      ['query', 'https://app.example.com/oauth2/callback?next=/'],
      ['case', 'https://app.example.com/OAuth2/Callback'],
    ];
    for (const [difference, redirectUri] of variants) {
      it(`refuses a redirect URI differing by ${difference}`, async () => {
        const response = await new BrowserJar().fetch(authorizeUrl({ client_id: app.clientId, redirect_uri: redirectUri, state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }));
        assert.equal(response.status, 400);
        assert.equal(response.headers.get('location'), null);
        const page = await response.text();
        assert.match(page, /not registered/);
        assert.doesNotMatch(page, /evil\.example\.com/);
      });
    }
  });

  it('refuses an unknown client with a page, not a redirect', async () => {
    const response = await new BrowserJar().fetch(authorizeUrl({ client_id: 'nobody', redirect_uri: REDIRECT_URI }));
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null);
    assert.match(await response.text(), /not registered with this identity provider/);
  });

  it('refuses a code used twice and revokes the tokens the first use issued', async () => {
    const { code, verifier } = await codeFor(app.clientId, REDIRECT_URI, alice);
    const first = await exchange(app, { code: code!, code_verifier: verifier });
    assert.equal(first.status, 200);
    const tokens = await first.json() as { access_token: string; refresh_token: string };
    const second = await exchange(app, { code: code!, code_verifier: verifier });
    assert.equal(second.status, 400);
    assert.equal((await second.json() as { error: string }).error, 'invalid_grant');
    const userinfo = await fetch(`${server.issuer}/api/oidc/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(userinfo.status, 401);
    const refresh = await exchange(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.equal(refresh.status, 400);
  });

  it('refuses a code presented by another client', async () => {
    const { code, verifier } = await codeFor(app.clientId, REDIRECT_URI, alice);
    const response = await exchange(other, { code: code!, code_verifier: verifier });
    assert.equal(response.status, 400);
    assert.equal((await response.json() as { error: string }).error, 'invalid_grant');
  });

  it('refuses a wrong PKCE verifier', async () => {
    const { code } = await codeFor(app.clientId, REDIRECT_URI, alice);
    const response = await exchange(app, { code: code!, code_verifier: client.randomPKCECodeVerifier() });
    assert.equal((await response.json() as { error: string }).error, 'invalid_grant');
  });

  it('refuses a missing verifier after a challenge was sent', async () => {
    const { code } = await codeFor(app.clientId, REDIRECT_URI, alice);
    const response = await exchange(app, { code: code! });
    assert.equal((await response.json() as { error: string }).error, 'invalid_grant');
  });

  it('refuses the plain PKCE method', async () => {
    const { outcome } = await codeFor(app.clientId, REDIRECT_URI, alice, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
    assert.equal(outcome.callback?.searchParams.get('error'), 'invalid_request');
    assert.equal(outcome.callback?.searchParams.get('code'), null);
  });

  it('requires PKCE from a public client', async () => {
    await server.createClient({ id: 'spa', name: 'SPA', isPublic: true, redirectUris: ['http://localhost:5173/cb'], allowedGroups: ['friends'] });
    const outcome = await authorizeInBrowser(server, new BrowserJar(), authorizeUrl({ client_id: 'spa', redirect_uri: 'http://localhost:5173/cb', state: 's' }), alice, 'http://localhost:5173/cb');
    assert.equal(outcome.callback?.searchParams.get('error'), 'invalid_request');
    assert.equal(outcome.callback?.searchParams.get('code'), null);
  });

  it('refuses a wrong client secret, and the stored hash used as the secret', async () => {
    const { code, verifier } = await codeFor(app.clientId, REDIRECT_URI, alice);
    const wrong = await exchange({ clientId: app.clientId, secret: `${app.secret}x` }, { code: code!, code_verifier: verifier });
    assert.equal(wrong.status, 401);
    const row = await server.db.selectFrom('oidc_clients').select('secret_hash').where('id', '=', app.clientId).executeTakeFirstOrThrow();
    const hash = await exchange({ clientId: app.clientId, secret: row.secret_hash! }, { code: code!, code_verifier: verifier });
    assert.equal(hash.status, 401);
  });

  it('refuses everyone when the client has no allowed groups, with a page and no redirect loop', async () => {
    await server.createClient({ id: 'closed', name: 'Closed shop', redirectUris: ['https://closed.example.com/cb'] });
    const { outcome } = await codeFor('closed', 'https://closed.example.com/cb', alice);
    assert.equal(outcome.callback, null);
    assert.equal(outcome.finalStatus, 403);
    assert.match(outcome.finalBody, /not allowed to use Closed shop/);
    assert.ok(outcome.hops.length < 8, `hops: ${outcome.hops.map((h) => h.url).join(' → ')}`);
  });

  it('admits a member of the client\'s group, and anyone to an unrestricted client', async () => {
    const bob = await server.createUser({ username: 'bob', groups: ['strangers'] });
    await server.createClient({ id: 'open', name: 'Open', redirectUris: ['https://open.example.com/cb'], unrestricted: true });
    assert.ok((await codeFor('open', 'https://open.example.com/cb', bob)).code);
    const refused = await codeFor(app.clientId, REDIRECT_URI, bob);
    assert.equal(refused.outcome.finalStatus, 403);
  });

  it('refuses a disabled user', async () => {
    const carol = await server.createUser({ username: 'carol', groups: ['friends'], disabled: true });
    const { outcome } = await codeFor(app.clientId, REDIRECT_URI, carol);
    assert.equal(outcome.callback, null);
    assert.equal(outcome.finalStatus, 403);
    assert.match(outcome.finalBody, /disabled/);
  });

  it('stops refreshing tokens for a user disabled after signing in', async () => {
    const dave = await server.createUser({ username: 'dave', groups: ['friends'] });
    const { code, verifier } = await codeFor(app.clientId, REDIRECT_URI, dave);
    const tokens = await (await exchange(app, { code: code!, code_verifier: verifier })).json() as { refresh_token: string };
    await server.db.updateTable('users').set({ disabled: 1 }).where('id', '=', dave).execute();
    const refresh = await exchange(app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.equal(refresh.status, 400);
  });

  it('asks for sign-in again once the latchkey session is gone, even with a provider session', async () => {
    const jar = new BrowserJar();
    const verifier = client.randomPKCECodeVerifier();
    const url = authorizeUrl({ client_id: app.clientId, redirect_uri: REDIRECT_URI, state: 's', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    assert.ok((await authorizeInBrowser(server, jar, url, alice, REDIRECT_URI)).callback);
    assert.ok(jar.has('latchkey_oidc_session'));
    await jar.fetch(`${server.issuer}/test/logout`);
    const again = await authorizeInBrowser(server, jar, url, null, REDIRECT_URI);
    assert.equal(again.callback, null);
    assert.match(again.hops.at(-1)!.location ?? '', /\/test\/sign-in\?uid=/);
  });

  describe('logoutUser', () => {
    let receiver: Server;
    let received: string[];
    before(async () => {
      received = [];
      receiver = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk) => { body += chunk; });
        req.on('end', () => { received.push(new URLSearchParams(body).get('logout_token') ?? ''); res.writeHead(200).end(); });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    });
    after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

    it('sends a back-channel logout token to the client and revokes the user\'s tokens', async () => {
      const port = (receiver.address() as { port: number }).port;
      const bc = await server.createClient({ id: 'bc', name: 'BC', redirectUris: [REDIRECT_URI], allowedGroups: ['friends'], backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel` });
      const erin = await server.createUser({ username: 'erin', groups: ['friends'] });
      const { code, verifier } = await codeFor('bc', REDIRECT_URI, erin);
      const tokens = await (await exchange({ clientId: 'bc', secret: bc.secret! }, { code: code!, code_verifier: verifier })).json() as { refresh_token: string; access_token: string };

      const report = await server.oidc.logoutUser(erin);
      assert.deepEqual(report.notifiedClients, ['bc']);
      assert.equal(received.length, 1);
      const { payload } = await jwtVerify(received[0], createRemoteJWKSet(new URL(`${server.issuer}/.well-known/jwks.json`)), {
        issuer: server.issuer, audience: 'bc', typ: 'logout+jwt',
      });
      assert.equal(payload.sub, erin);
      assert.ok(payload.sid, 'the session id is included (backchannel_logout_session_required)');
      assert.ok(typeof payload.jti === 'string' && payload.jti, 'a jti (§2.4 requires one; latchkey proxy refuses a token without)');
      assert.ok((payload.events as Record<string, unknown>)['http://schemas.openid.net/event/backchannel-logout']);
      assert.equal(payload.nonce, undefined);

      const refresh = await exchange({ clientId: 'bc', secret: bc.secret! }, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(refresh.status, 400);
      const userinfo = await fetch(`${server.issuer}/api/oidc/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(userinfo.status, 401);
    });
  });
});
