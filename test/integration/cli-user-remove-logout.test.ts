// latchkey user remove, run beside a live latchkey id, does what removing a user in the admin
// console or through the admin API does: every app the user signed in to hears back-channel
// logout, with a token the app can verify against the server's JWKS, and their grants end.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { APP_REDIRECT_URI, signedInUser, signInToApp, startLogoutReceiver } from '../helpers/account-fixture.ts';
import { freePort } from '../helpers/free-port.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';
import { runLatchkey } from '../helpers/latchkey-cli.ts';

describe('latchkey user remove and disable', () => {
  let id: IdServer;
  let receiver: Awaited<ReturnType<typeof startLogoutReceiver>>;
  before(async () => {
    id = await startIdServer();
    receiver = await startLogoutReceiver();
    await id.services.clients.create({ id: 'wiki', name: 'Family wiki', redirectUris: [APP_REDIRECT_URI], unrestricted: true, backchannelLogoutUri: receiver.uri });
  });
  after(async () => {
    await receiver.close();
    await id.close();
  });

  it('sends back-channel logout to the apps the user used, as the console and the API do', async () => {
    const { user, browser } = await signedInUser(id, { username: 'leaver' });
    await signInToApp(id, browser, 'wiki');
    const env = { APP_URL: id.origin, DB_CONNECTION_STRING: join(id.dataDir, 'latchkey.db'), ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef' };
    const run = await runLatchkey(['user', 'remove', 'leaver', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(receiver.tokens.length, 1, 'the app was told');
    const { payload } = await jwtVerify(receiver.tokens[0], createRemoteJWKSet(new URL(`${id.origin}/.well-known/jwks.json`)), { issuer: id.origin, audience: 'wiki' });
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
    const told = receiver.tokens.length;
    const env = { APP_URL: id.origin, DB_CONNECTION_STRING: join(id.dataDir, 'latchkey.db'), ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef' };
    const run = await runLatchkey(['user', 'disable', 'paused'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Disabled paused\nSigned out of wiki \(back-channel logout\)$/m);
    assert.equal(receiver.tokens.length, told + 1, 'the app was told');
    const { payload } = await jwtVerify(receiver.tokens.at(-1)!, createRemoteJWKSet(new URL(`${id.origin}/.well-known/jwks.json`)), { issuer: id.origin, audience: 'wiki' });
    assert.equal(payload.sub, user.id);
    const grants = await id.services.database.db.selectFrom('oidc_payloads').select('model').where('account_id', '=', user.id).where('model', '=', 'Grant').execute();
    assert.deepEqual(grants, [], 'their grants ended');
    const enabled = await runLatchkey(['user', 'enable', 'paused'], env);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.equal(receiver.tokens.length, told + 1, 'enabling tells nobody');
  });
});

describe('latchkey user remove when an app cannot be told', () => {
  // The id could not reach the back-channel address (a public name this machine does not resolve,
  // a firewall): the tokens are revoked, but a proxy's cookie session lives on until it expires
  // or is refreshed. The message used to say only "fetch failed" and "revoked regardless".
  it('says where it tried, why it failed, and that a session the app holds is not ended', async () => {
    const id = await startIdServer();
    try {
      const closed = await freePort();
      const uri = `http://127.0.0.1:${closed}/oauth2/backchannel-logout`;
      await id.services.clients.create({ id: 'site', name: 'Site', redirectUris: [APP_REDIRECT_URI], unrestricted: true, backchannelLogoutUri: uri });
      const { browser } = await signedInUser(id, { username: 'gone' });
      await signInToApp(id, browser, 'site');
      const env = { APP_URL: id.origin, DB_CONNECTION_STRING: join(id.dataDir, 'latchkey.db'), ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef' };
      const run = await runLatchkey(['user', 'remove', 'gone'], env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, new RegExp(`back-channel logout to site at ${uri.replace(/[.]/g, '\\.')} failed \\(.*ECONNREFUSED 127\\.0\\.0\\.1:${closed}\\)`));
      assert.match(run.stderr, /gone's tokens for it are revoked, but a sign-in that app already holds is not ended: .*--cookie-expire/);
      assert.doesNotMatch(run.stderr, /revoked regardless/);
    } finally {
      await id.close();
    }
  });
});

describe('latchkey user remove when an app has no back-channel logout URI', () => {
  // Nothing was sent to it, and nothing said so: the proxy's cookie session lived on unmentioned.
  it('names it, says a session it holds is not ended, and what to set', async () => {
    const id = await startIdServer();
    try {
      await id.services.clients.create({ id: 'bare', name: 'Bare', redirectUris: [APP_REDIRECT_URI], unrestricted: true });
      const { browser } = await signedInUser(id, { username: 'unheard' });
      await signInToApp(id, browser, 'bare');
      const env = { APP_URL: id.origin, DB_CONNECTION_STRING: join(id.dataDir, 'latchkey.db'), ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef' };
      const run = await runLatchkey(['user', 'remove', 'unheard', '--json'], env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /bare has no back-channel logout URI, so it was not told\. unheard's tokens for it are revoked, but a sign-in that app already holds is not ended/);
      assert.match(run.stderr, /set its back-channel logout URI .*https:\/\/SITE\/oauth2\/backchannel-logout/);
      assert.deepEqual((JSON.parse(run.stdout) as { logout: { clientsWithoutLogoutUri: string[] } }).logout.clientsWithoutLogoutUri, ['bare']);
    } finally {
      await id.close();
    }
  });
});

describe('latchkey user disable beside an ES256 server, from a shell without OIDC_SIGNING_ALG', () => {
  it("signs the logout token with the server's key and leaves the keys alone", async () => {
    const id = await startIdServer({ OIDC_SIGNING_ALG: 'ES256' });
    try {
      const { user } = await signedInUser(id, { username: 'es' });
      const keysBefore = await id.services.database.db.selectFrom('signing_keys').selectAll().execute();
      const env = { APP_URL: id.origin, DB_CONNECTION_STRING: join(id.dataDir, 'latchkey.db'), ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef' };
      const run = await runLatchkey(['user', 'disable', 'es'], env);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(await id.services.database.db.selectFrom('signing_keys').selectAll().execute(), keysBefore,
        'an RS256 default in the shell must not rotate the server away from its ES256 key');
      assert.ok(user.id);
    } finally {
      await id.close();
    }
  });
});
