// latchkey user remove, run beside a live latchkey id, does what removing a user in the admin
// console or through the admin API does: every app the user signed in to hears back-channel
// logout, with a token the app can verify against the server's JWKS, and their grants end.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { signedInUser, type SignedInBrowser } from '../helpers/account-fixture.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = `${root}node_modules/.bin/node`;
const REDIRECT_URI = 'http://127.0.0.1:9/callback';

async function latchkey(args: string[], env: Record<string, string>) {
  const child = spawn(node, ['src/main.ts', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}

/** The signed-in browser authorizes the app: the provider now holds a session and a grant for it. */
async function signInToApp(id: IdServer, browser: SignedInBrowser, clientId: string) {
  const url = new URL('/authorize', id.origin);
  url.search = new URLSearchParams({
    client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, state: 'st', nonce: 'no',
    code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'), code_challenge_method: 'S256',
  }).toString();
  const step = await browser.jar.follow(url.href, (next) => !next.href.startsWith(REDIRECT_URI));
  await step.response.body?.cancel();
  assert.ok((step.response.headers.get('location') ?? '').startsWith(REDIRECT_URI), 'the app got a code');
}

describe('latchkey user remove and disable', () => {
  let id: IdServer;
  let receiver: Server;
  const logoutTokens: string[] = [];
  before(async () => {
    id = await startIdServer();
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => { body += chunk; });
      request.on('end', () => { logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? ''); response.writeHead(200).end(); });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as { port: number };
    await id.services.clients.create({ id: 'wiki', name: 'Family wiki', redirectUris: [REDIRECT_URI], unrestricted: true, backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel` });
  });
  after(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await id.close();
  });

  it('sends back-channel logout to the apps the user used, as the console and the API do', async () => {
    const { user, browser } = await signedInUser(id, { username: 'leaver' });
    await signInToApp(id, browser, 'wiki');
    const env = { APP_URL: id.origin, DB_CONNECTION_STRING: join(id.dataDir, 'latchkey.db'), ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef' };
    const run = await latchkey(['user', 'remove', 'leaver', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(logoutTokens.length, 1, 'the app was told');
    const { payload } = await jwtVerify(logoutTokens[0], createRemoteJWKSet(new URL(`${id.origin}/.well-known/jwks.json`)), { issuer: id.origin, audience: 'wiki' });
    assert.equal(payload.sub, user.id);
    assert.ok((payload.events as Record<string, unknown>)['http://schemas.openid.net/event/backchannel-logout']);
    const left = await id.services.database.db.selectFrom('oidc_payloads').select('model').where('account_id', '=', user.id).execute();
    assert.deepEqual(left, [], 'no session, grant or token of the removed user is left');

    const { removed, logout } = JSON.parse(run.stdout) as { removed: string; logout: { notifiedClients: string[]; failedClients: unknown[] } };
    assert.equal(removed, user.id);
    assert.deepEqual(logout, { ...logout, notifiedClients: ['wiki'], failedClients: [] }, 'the output says which apps were told');
  });

  it('sends back-channel logout on `user disable` too, as the console does', async () => {
    const { user, browser } = await signedInUser(id, { username: 'paused' });
    await signInToApp(id, browser, 'wiki');
    const told = logoutTokens.length;
    const env = { APP_URL: id.origin, DB_CONNECTION_STRING: join(id.dataDir, 'latchkey.db'), ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef' };
    const run = await latchkey(['user', 'disable', 'paused'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Disabled paused\nSigned out of wiki \(back-channel logout\)$/m);
    assert.equal(logoutTokens.length, told + 1, 'the app was told');
    const { payload } = await jwtVerify(logoutTokens.at(-1)!, createRemoteJWKSet(new URL(`${id.origin}/.well-known/jwks.json`)), { issuer: id.origin, audience: 'wiki' });
    assert.equal(payload.sub, user.id);
    const grants = await id.services.database.db.selectFrom('oidc_payloads').select('model').where('account_id', '=', user.id).where('model', '=', 'Grant').execute();
    assert.deepEqual(grants, [], 'their grants ended');
    const enabled = await latchkey(['user', 'enable', 'paused'], env);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.equal(logoutTokens.length, told + 1, 'enabling tells nobody');
  });
});

describe('latchkey user disable beside an ES256 server, from a shell without OIDC_SIGNING_ALG', () => {
  it("signs the logout token with the server's key and leaves the keys alone", async () => {
    const id = await startIdServer({ OIDC_SIGNING_ALG: 'ES256' });
    try {
      const { user } = await signedInUser(id, { username: 'es' });
      const keysBefore = await id.services.database.db.selectFrom('signing_keys').selectAll().execute();
      const env = { APP_URL: id.origin, DB_CONNECTION_STRING: join(id.dataDir, 'latchkey.db'), ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef' };
      const run = await latchkey(['user', 'disable', 'es'], env);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(await id.services.database.db.selectFrom('signing_keys').selectAll().execute(), keysBefore,
        'an RS256 default in the shell must not rotate the server away from its ES256 key');
      assert.ok(user.id);
    } finally {
      await id.close();
    }
  });
});
