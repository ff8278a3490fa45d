// Apache 2.4 + mod_auth_openidc (Debian's build), an OIDC client we did not write, protecting a
// folder with latchkey's provider module alone (test sign-in seam instead of passkeys; the whole
// `latchkey id` with passkeys is id-apache-passkey.test.ts). A missing apache2 fails loudly.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apacheRedirectUri, startApache, type Apache } from '../helpers/apache.ts';
import { BrowserJar } from '../helpers/browser-jar.ts';
import { freePort, onFreshPorts } from '../helpers/free-port.ts';
import { authorizeInBrowser } from '../helpers/oidc-flow.ts';
import { startOidcTestServer, type OidcTestServer } from '../helpers/oidc-test-server.ts';

const SECRET_TEXT = 'the private page, served by apache';

describe('Apache mod_auth_openidc with latchkey id as its provider', () => {
  let server: OidcTestServer;
  let apache: Apache;
  let apacheUrl: string;
  let alice: string;
  let mallory: string;

  before(async () => {
    server = await startOidcTestServer();
    alice = await server.createUser({ username: 'alice', groups: ['friends'] });
    mallory = await server.createUser({ username: 'mallory', groups: ['strangers'] });
    // the client's redirect URI names Apache's port, so a port taken meanwhile means a new client
    apache = await onFreshPorts(3, async (attempt) => {
      const port = await freePort();
      const { clientId, secret } = await server.createClient({ id: `apache-${attempt}`, name: 'Apache', redirectUris: [apacheRedirectUri(port)], allowedGroups: ['friends'] });
      return startApache({ port, issuer: server.issuer, clientId, secret: secret!, privateFiles: { 'secret.html': `<p>${SECRET_TEXT}</p>` } });
    });
    apacheUrl = apache.url;
  });

  after(async () => {
    await apache?.close();
    await server?.close();
  });

  it('serves the protected file after a sign-in at latchkey\'s provider', async () => {
    const jar = new BrowserJar();
    const first = await jar.fetch(`${apacheUrl}/private/secret.html`);
    assert.equal(first.status, 302, apache.errorLog());
    const toProvider = new URL(first.headers.get('location')!);
    assert.equal(toProvider.origin + toProvider.pathname, `${server.issuer}/authorize`);
    assert.equal(toProvider.searchParams.get('code_challenge_method'), 'S256');

    const outcome = await authorizeInBrowser(server, jar, toProvider.href, alice, `${apacheUrl}/private/redirect_uri`);
    assert.ok(outcome.callback, `stopped at ${outcome.finalStatus}: ${outcome.finalBody.slice(0, 200)}`);
    const back = await jar.follow(outcome.callback.href);
    assert.equal(back.response.status, 200, `apache answered ${back.response.status}; hops ${back.hops.map((h) => `${h.status} ${h.url}`).join(' → ')}\n${apache.errorLog()}`);
    assert.match(await back.response.text(), new RegExp(SECRET_TEXT));
    assert.equal(back.url, `${apacheUrl}/private/secret.html`);
  });

  it('never serves the file to a user outside the client\'s groups', async () => {
    const jar = new BrowserJar();
    const first = await jar.fetch(`${apacheUrl}/private/secret.html`);
    const outcome = await authorizeInBrowser(server, jar, new URL(first.headers.get('location')!).href, mallory, `${apacheUrl}/private/redirect_uri`);
    assert.equal(outcome.callback, null);
    assert.equal(outcome.finalStatus, 403);
    const again = await jar.fetch(`${apacheUrl}/private/secret.html`);
    assert.equal(again.status, 302, 'still not signed in at Apache');
  });
});
