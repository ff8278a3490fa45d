import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCsrfCookies } from '../../src/proxy/csrf.ts';
import { parseCookieHeader } from '../../src/proxy/cookie-header.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import { CookieJar } from '../helpers/reference-provider.ts';

const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', 'x-forwarded-uri': '/private/x' };

async function start(h: ProxyHarness, query: string, headers: Record<string, string>) {
  const jar = new CookieJar();
  const response = await jar.fetch(`${h.proxyUrl}/oauth2/start${query}`, { headers });
  assert.equal(response.status, 302);
  const authorizationUrl = new URL(response.headers.get('location')!);
  const state = authorizationUrl.searchParams.get('state')!;
  const attempt = createCsrfCookies(h.config.cookie).read(parseCookieHeader(jar.header(h.proxyUrl)), state, Math.floor(h.clock.nowMs() / 1000));
  assert.ok(attempt, 'the CSRF cookie opens');
  return { redirectUri: authorizationUrl.searchParams.get('redirect_uri'), redirect: attempt.redirect };
}

describe('forwarded headers from an untrusted peer', () => {
  let h: ProxyHarness;
  before(async () => { h = await startProxyHarness({ config: { reverseProxy: true, trustedProxyIps: ['10.0.0.1'] } }); });
  after(() => h.close());

  it('ignores a spoofed X-Forwarded-Host when building the callback URL', async () => {
    const { redirectUri } = await start(h, '', forwarded);
    assert.equal(redirectUri, `${h.proxyUrl}/oauth2/callback`);
  });

  it('does not let a spoofed X-Forwarded-Host make another host a valid redirect', async () => {
    const { redirect } = await start(h, `?rd=${encodeURIComponent('https://evil.example/private/x')}`, forwarded);
    assert.equal(redirect, '/');
  });
});

describe('forwarded headers from a trusted proxy', () => {
  let h: ProxyHarness;
  // An empty trusted list means loopback, where the test client is.
  before(async () => { h = await startProxyHarness({ config: { reverseProxy: true, trustedProxyIps: [] } }); });
  after(() => h.close());

  it('builds the callback URL from X-Forwarded-Proto and X-Forwarded-Host', async () => {
    const { redirectUri } = await start(h, '', forwarded);
    assert.equal(redirectUri, 'https://evil.example/oauth2/callback');
  });

  it('accepts a redirect to the forwarded host, and derives it from X-Forwarded-Uri when rd is absent', async () => {
    assert.equal((await start(h, `?rd=${encodeURIComponent('https://evil.example/a')}`, forwarded)).redirect, 'https://evil.example/a');
    assert.equal((await start(h, '', forwarded)).redirect, 'https://evil.example/private/x');
  });
});

describe('forwarded headers without --reverse-proxy', () => {
  let h: ProxyHarness;
  before(async () => { h = await startProxyHarness({ config: { reverseProxy: false } }); });
  after(() => h.close());

  it('ignores X-Forwarded-* even from loopback', async () => {
    const { redirectUri, redirect } = await start(h, `?rd=${encodeURIComponent('https://evil.example/a')}`, forwarded);
    assert.equal(redirectUri, `${h.proxyUrl}/oauth2/callback`);
    assert.equal(redirect, '/');
  });
});
