import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.ts';
import { proxyConfigFixture } from '../helpers/proxy-config-fixture.ts';
import { CookieJar, loginAtProvider, type ReferenceProvider, startReferenceProvider } from '../helpers/reference-provider.ts';

// The browser knows the provider as id.invalid (a name that never resolves, RFC 6761 §6.4); the
// proxy reaches it at 127.0.0.1, like a container reaching Pocket ID by its service name.
describe('a provider reached on an internal URL (--oidc-internal-url)', () => {
  let op: ReferenceProvider;
  let proxy: ProxyServer;
  let proxyUrl: string;
  let internalUrl: string;
  before(async () => {
    op = await startReferenceProvider(undefined, 'id.invalid');
    internalUrl = op.issuer.replace('id.invalid', '127.0.0.1');
    const config = proxyConfigFixture({ oidcIssuerUrl: op.issuer, oidcInternalUrl: internalUrl, setXAuthRequest: true });
    proxy = await createProxyServer(config, { clock: manualClock(Date.now()) });
    proxyUrl = (await proxy.listen()).url;
    op.configure({ clientId: config.clientId, clientSecret: config.clientSecret, redirectUris: [`${proxyUrl}/oauth2/callback`] });
    await proxy.runtime.oidc.discover();
  });
  after(async () => { await proxy.close(); await op.close(); });

  it('loads discovery through the internal URL while keeping the public issuer', async () => {
    assert.equal((await fetch(`${proxyUrl}/ready`)).status, 200);
  });

  it('sends the browser to the public authorization URL and redeems the code on the internal one', async () => {
    const jar = new CookieJar();
    const start = await jar.fetch(`${proxyUrl}/oauth2/start`);
    const authorizationUrl = start.headers.get('location')!;
    assert.ok(authorizationUrl.startsWith(`${op.issuer}/`), authorizationUrl);
    const toInternal = (url: string) => url.replace(op.issuer, internalUrl);
    const callbackUrl = await loginAtProvider(jar, authorizationUrl, 'ada', `${proxyUrl}/oauth2/callback`, toInternal);
    const callback = await jar.fetch(callbackUrl);
    assert.equal(callback.status, 302);
    const auth = await jar.fetch(`${proxyUrl}/oauth2/auth`);
    assert.equal(auth.status, 202);
    assert.equal(auth.headers.get('x-auth-request-email'), 'ada@example.com');
  });
});
