// The callback URL (redirect_uri) without an absolute --redirect-url, as oauth2-proxy's
// getOAuthRedirectURI builds it: the request's host, over https whenever the cookie is Secure
// (--cookie-secure, the default), since a TLS edge in front need not send X-Forwarded-Proto; and a
// path-only --redirect-url (/oauth2/callback) is put on the request's host the same way.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ProxyConfig } from '../../src/proxy/config.ts';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.ts';
import { proxyConfigFixture } from '../helpers/proxy-config-fixture.ts';
import { CookieJar, loginAtProvider, type ReferenceProvider, startReferenceProvider } from '../helpers/reference-provider.ts';

type Overrides = Parameters<typeof proxyConfigFixture>[0];

/** The provider knows only `callback(proxyUrl)` as the client's redirect URI. */
async function start(overrides: Overrides, callback: (proxyUrl: string) => string) {
  const op = await startReferenceProvider();
  const config: ProxyConfig = proxyConfigFixture({ oidcIssuerUrl: op.issuer, ...overrides });
  const proxy = await createProxyServer(config);
  const { url: proxyUrl } = await proxy.listen();
  op.configure({ clientId: config.clientId, clientSecret: config.clientSecret, redirectUris: [callback(proxyUrl)] });
  await proxy.runtime.oidc.discover();
  return { op, proxy, proxyUrl, callback: callback(proxyUrl) };
}

const redirectUriOf = (authorizationUrl: string) => new URL(authorizationUrl).searchParams.get('redirect_uri');

/**
 * The whole sign-in behind a TLS edge that forwards to the proxy over http: the provider sends the
 * browser to `callback` (https), which the edge hands to the proxy as http with `headers`.
 */
async function signInThroughEdge(op: ReferenceProvider, proxyUrl: string, callback: string, headers: Record<string, string>) {
  const jar = new CookieJar();
  const startResponse = await jar.fetch(`${proxyUrl}/oauth2/start?rd=%2Fprivate%2Fa`, { headers });
  assert.equal(startResponse.status, 302);
  const authorizationUrl = startResponse.headers.get('location')!;
  assert.equal(redirectUriOf(authorizationUrl), callback);
  assert.ok(authorizationUrl.startsWith(op.issuer));
  const returned = new URL(await loginAtProvider(jar, authorizationUrl, 'ada', callback));
  const finished = await jar.fetch(`${proxyUrl}${returned.pathname}${returned.search}`, { headers });
  await finished.arrayBuffer();
  return { jar, finished };
}

describe('the callback URL without an absolute --redirect-url', () => {
  const stops: { op: ReferenceProvider; proxy: ProxyServer }[] = [];
  after(async () => {
    for (const { op, proxy } of stops) {
      await proxy.close();
      await op.close();
    }
  });

  it('is https on the request host with --cookie-secure, though the request came over http, and the sign-in completes', async () => {
    const s = await start({ cookie: { secure: true } }, (proxyUrl) => proxyUrl.replace('http:', 'https:') + '/oauth2/callback');
    stops.push(s);
    const { jar, finished } = await signInThroughEdge(s.op, s.proxyUrl, s.callback, {});
    assert.equal(finished.status, 302, 'the token request used the same https redirect_uri');
    assert.equal(finished.headers.get('location'), '/private/a');
    assert.ok(jar.get(s.proxyUrl, '_oauth2_proxy'), 'signed in');
  });

  it('follows the request scheme with --cookie-secure=false, as before', async () => {
    const s = await start({ cookie: { secure: false } }, (proxyUrl) => `${proxyUrl}/oauth2/callback`);
    stops.push(s);
    const response = await new CookieJar().fetch(`${s.proxyUrl}/oauth2/start`);
    assert.equal(redirectUriOf(response.headers.get('location')!), `${s.proxyUrl}/oauth2/callback`);
  });

  it('puts a path-only --redirect-url on the forwarded host, over https with --cookie-secure, and the sign-in completes', async () => {
    const s = await start({ redirectUrl: '/oauth2/callback', reverseProxy: true, cookie: { secure: true } }, () => 'https://site.example/oauth2/callback');
    stops.push(s);
    // a trusted edge (loopback) that names the host but not the scheme
    const { jar, finished } = await signInThroughEdge(s.op, s.proxyUrl, s.callback, { 'x-forwarded-host': 'site.example' });
    assert.equal(finished.status, 302);
    assert.equal(finished.headers.get('location'), '/private/a');
    assert.ok(jar.get(s.proxyUrl, '_oauth2_proxy'), 'signed in');
  });

  it('uses an absolute --redirect-url as it is, whatever the request', async () => {
    const s = await start({ redirectUrl: 'http://other.example:8080/oauth2/callback', cookie: { secure: true } }, () => 'http://other.example:8080/oauth2/callback');
    stops.push(s);
    const response = await new CookieJar().fetch(`${s.proxyUrl}/oauth2/start`);
    assert.equal(redirectUriOf(response.headers.get('location')!), 'http://other.example:8080/oauth2/callback');
  });
});
