// Apache + mod_auth_openidc protecting a folder with the real `latchkey id` as its provider; the
// visitor signs in with a passkey at latchkey and Apache then serves the file.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apacheRedirectUri, startApache, type Apache } from '../helpers/apache.ts';
import { freePort, onFreshPorts } from '../helpers/free-port.ts';
import { authorizeWithPasskey, enrollUser, type IdBrowser } from '../helpers/id-passkey-flow.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const SECRET_TEXT = 'the private page, served by apache after a passkey';

describe('Apache mod_auth_openidc with the real latchkey id and a passkey', () => {
  let id: IdServer;
  let apache: Apache;
  let alice: IdBrowser;
  let mallory: IdBrowser;

  before(async () => {
    id = await startIdServer();
    ({ browser: alice } = await enrollUser(id, { username: 'alice', groups: ['friends'] }));
    ({ browser: mallory } = await enrollUser(id, { username: 'mallory', groups: ['strangers'] }));
    // the client's redirect URI names Apache's port, so a port taken meanwhile means a new client
    apache = await onFreshPorts(3, async () => {
      const port = await freePort();
      const { client, secret } = await id.services.clients.create({ name: 'Apache', redirectUris: [apacheRedirectUri(port)], allowedGroups: ['friends'] });
      return startApache({ port, issuer: id.origin, clientId: client.id, secret: secret!, privateFiles: { 'secret.html': `<p>${SECRET_TEXT}</p>` } });
    });
  });
  after(async () => {
    await apache?.close();
    await id?.close();
  });

  it('serves the protected file once the visitor signs in with their passkey at latchkey', async () => {
    const first = await alice.jar.fetch(`${apache.url}/private/secret.html`);
    assert.equal(first.status, 302, apache.errorLog());
    const toProvider = new URL(first.headers.get('location')!);
    assert.equal(toProvider.origin + toProvider.pathname, `${id.origin}/authorize`);

    const outcome = await authorizeWithPasskey(alice, id, toProvider.href, `${apache.url}/private/redirect_uri`);
    assert.equal(outcome.signedInWithPasskey, true);
    assert.ok(outcome.callback, `stopped at ${outcome.finalStatus}: ${outcome.finalBody.slice(0, 200)}`);
    const back = await alice.jar.follow(outcome.callback.href);
    assert.equal(back.response.status, 200, `apache answered ${back.response.status}\n${apache.errorLog()}`);
    assert.match(await back.response.text(), new RegExp(SECRET_TEXT));
    assert.equal(back.url, `${apache.url}/private/secret.html`);
  });

  it('keeps the file from a passkey user outside the client\'s groups', async () => {
    const first = await mallory.jar.fetch(`${apache.url}/private/secret.html`);
    const outcome = await authorizeWithPasskey(mallory, id, new URL(first.headers.get('location')!).href, `${apache.url}/private/redirect_uri`);
    assert.equal(outcome.signedInWithPasskey, true);
    assert.equal(outcome.callback, null);
    assert.equal(outcome.finalStatus, 403);
    assert.equal((await mallory.jar.fetch(`${apache.url}/private/secret.html`)).status, 302, 'still not signed in at Apache');
  });
});
