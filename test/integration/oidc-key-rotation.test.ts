import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as client from 'openid-client';
import { systemClock } from '../../src/core/clock.ts';
import { rotateSigningKey } from '../../src/oidc/keys.ts';
import { BrowserJar } from '../helpers/browser-jar.ts';
import { authorizeInBrowser } from '../helpers/oidc-flow.ts';
import { startOidcTestServer, type OidcTestServer } from '../helpers/oidc-test-server.ts';

const REDIRECT_URI = 'http://localhost:9/cb';
const ENCRYPTION_KEY = Buffer.from('test-encryption-key-0123456789abcdef'); // the test server's

async function idTokenFrom(server: OidcTestServer, rp: { userId: string; secret: string }): Promise<string> {
  const config = await client.discovery(new URL(server.issuer), 'rp', rp.secret, undefined, { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
  const outcome = await authorizeInBrowser(server, new BrowserJar(), url.href, rp.userId, REDIRECT_URI);
  const tokens = await client.authorizationCodeGrant(config, outcome.callback!, { pkceCodeVerifier: verifier, expectedState: 's' });
  return tokens.id_token!;
}

const jwks = async (server: OidcTestServer) => (await (await fetch(`${server.issuer}/.well-known/jwks.json`)).json()) as JSONWebKeySet;

async function withClient(server: OidcTestServer) {
  const userId = await server.createUser({ username: 'alice', groups: ['friends'] });
  const { secret } = await server.createClient({ id: 'rp', name: 'RP', redirectUris: [REDIRECT_URI], allowedGroups: ['friends'] });
  return { userId, secret: secret! };
}

describe('signing key rotation on a running server', () => {
  let server: OidcTestServer;
  let rp: { userId: string; secret: string };
  before(async () => {
    // Checks every second, so a new key signs from two seconds after the rotation.
    server = await startOidcTestServer({ keyCheckIntervalSeconds: 1 });
    rp = await withClient(server);
  });
  after(() => server.close());

  it('picks up a rotation made by another process: publishes the new key first, signs with it later, still publishes the old one', async () => {
    const before = await idTokenFrom(server, rp);
    const oldKid = decodeProtectedHeader(before).kid;
    // What `latchkey` CLI does, straight on the database, not through this server's handle.
    const rotatedAt = Date.now();
    const { kid: newKid } = await rotateSigningKey(server.db, systemClock, ENCRYPTION_KEY, { alg: 'RS256', overlapSeconds: 3600 });

    let published = await jwks(server);
    while (!published.keys.some((k) => k.kid === newKid) && Date.now() < rotatedAt + 3000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      published = await jwks(server);
    }
    assert.deepEqual(published.keys.map((k) => k.kid).sort(), [newKid, oldKid].sort());
    assert.ok(published.keys.every((k) => !('d' in k)), 'only public keys are published');

    // Another server may not publish the new key yet: the old one still signs.
    const whilePropagating = await idTokenFrom(server, rp);
    assert.ok(Date.now() < rotatedAt + 2000, 'the token came within the propagation window (the machine is too slow for this test otherwise)');
    assert.equal(decodeProtectedHeader(whilePropagating).kid, oldKid);

    let afterRotation = await idTokenFrom(server, rp);
    while (decodeProtectedHeader(afterRotation).kid !== newKid && Date.now() < rotatedAt + 6000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      afterRotation = await idTokenFrom(server, rp);
    }
    assert.equal(decodeProtectedHeader(afterRotation).kid, newKid, 'the new key signs once every server has had time to load it');
    const verify = createLocalJWKSet(published);
    for (const token of [before, whilePropagating, afterRotation]) await jwtVerify(token, verify, { issuer: server.issuer, audience: 'rp' });
  });
});

describe('ES256 ID tokens', () => {
  let server: OidcTestServer;
  let rp: { userId: string; secret: string };
  before(async () => {
    server = await startOidcTestServer({ signingAlg: 'ES256' });
    rp = await withClient(server);
  });
  after(() => server.close());

  it('signs ID tokens with ES256 and advertises only ES256', async () => {
    const metadata = await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json() as { id_token_signing_alg_values_supported: string[] };
    assert.deepEqual(metadata.id_token_signing_alg_values_supported, ['ES256']);
    const token = await idTokenFrom(server, rp);
    assert.equal(decodeProtectedHeader(token).alg, 'ES256');
  });
});
