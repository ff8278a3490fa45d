// Options the loader accepts, checked where the running proxy must honour them (the flag audit of
// issue #3): each test changes what a browser or the provider sees, so an option read but ignored fails.
import assert from 'node:assert/strict';
import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import { CookieJar } from '../helpers/reference-provider.ts';

const sessionLine = (lines: string[]) => lines.find((l) => /^_oauth2_proxy=[^;]/.test(l));
const csrfLine = (lines: string[]) => lines.find((l) => /^_oauth2_proxy_csrf=[^;]/.test(l));
/** A page navigation (fetch() says Sec-Fetch-Mode: cors, and a sign-in starts only for a navigation). */
const PAGE = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };

/** GET with a Host header of our choosing (fetch does not let a caller set Host). */
function getWithHost(url: string, host: string): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { headers: { host } }).on('response', (res) => res.resume().on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers })))
      .on('error', reject).end();
  });
}

describe('proxy options honoured at run time', () => {
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({
      config: {
        prompt: 'login',
        pingPath: '/healthz',
        readyPath: '/readyz',
        whitelistDomains: ['.partner.example'],
        cookie: { httpOnly: false, sameSite: 'strict', domains: ['.example.com', '.sub.example.com'] },
      },
    });
  });
  after(() => h.close());

  it('sends --prompt to the provider', async () => {
    const start = await fetch(`${h.proxyUrl}/oauth2/start`, { headers: PAGE, redirect: 'manual' });
    assert.equal(new URL(start.headers.get('location')!).searchParams.get('prompt'), 'login');
  });

  it('answers --ping-path and --ready-path where configured, and not at the default paths', async () => {
    assert.equal(await (await fetch(`${h.proxyUrl}/healthz`)).text(), 'OK');
    assert.equal((await fetch(`${h.proxyUrl}/readyz`)).status, 200);
    const ping = await fetch(`${h.proxyUrl}/ping`, { headers: { accept: 'application/json' } });
    assert.equal(ping.status, 401, '/ping is an ordinary path now, behind the sign-in');
    await ping.arrayBuffer();
  });

  it('leaves HttpOnly off the session cookie with --cookie-httponly=false', async () => {
    const { callback } = await h.signIn('ada');
    const line = sessionLine(callback.headers.getSetCookie());
    assert.ok(line, 'a session cookie was set');
    assert.doesNotMatch(line, /HttpOnly/i);
  });

  it('puts --cookie-samesite on the session and CSRF cookies', async () => {
    const jar = new CookieJar();
    const start = await jar.fetch(`${h.proxyUrl}/oauth2/start`);
    assert.match(csrfLine(start.headers.getSetCookie()) ?? '', /; SameSite=Strict/);
    const { callback } = await h.signIn('ada');
    assert.match(sessionLine(callback.headers.getSetCookie()) ?? '', /; SameSite=Strict/);
  });

  it('sets cookies for the longest --cookie-domain the request host is in', async () => {
    const deep = await getWithHost(`${h.proxyUrl}/oauth2/start`, 'app.sub.example.com');
    assert.match(csrfLine(deep.headers['set-cookie'] ?? []) ?? '', /; Domain=\.sub\.example\.com/);
    const shallow = await getWithHost(`${h.proxyUrl}/oauth2/start`, 'www.example.com');
    assert.match(csrfLine(shallow.headers['set-cookie'] ?? []) ?? '', /; Domain=\.example\.com(;|$)/);
  });

  it('returns after sign-in to a host under a --whitelist-domain, and to / for any other host', async () => {
    const listed = await h.signIn('ada', { rd: 'https://shop.partner.example/cart' });
    assert.equal(listed.callback.headers.get('location'), 'https://shop.partner.example/cart');
    const other = await h.signIn('ada', { rd: 'https://shop.elsewhere.example/cart' });
    assert.equal(other.callback.headers.get('location'), '/');
  });
});

describe('--proxy-prefix, --cookie-name, --cookie-secure and --cookie-csrf-expire', () => {
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({ config: { proxyPrefix: '/auth2', cookie: { name: 'site_session', secure: true, csrfExpireSeconds: 600 } } });
  });
  after(() => h.close());

  it('moves the endpoints under the prefix, the callback URL included', async () => {
    const start = await fetch(`${h.proxyUrl}/auth2/start`, { headers: PAGE, redirect: 'manual' });
    assert.equal(start.status, 302);
    // https with --cookie-secure, whatever the request's scheme (oauth2-proxy's getOAuthRedirectURI)
    assert.equal(new URL(start.headers.get('location')!).searchParams.get('redirect_uri'), `${h.proxyUrl.replace('http:', 'https:')}/auth2/callback`);
    assert.equal((await fetch(`${h.proxyUrl}/auth2/auth`)).status, 401);
  });

  it('no longer answers at /oauth2/', async () => {
    const response = await fetch(`${h.proxyUrl}/oauth2/start`, { headers: { accept: 'application/json' }, redirect: 'manual' });
    assert.equal(response.status, 401, 'an ordinary path behind the sign-in, not the start of one');
    await response.arrayBuffer();
  });

  it('names the CSRF cookie after --cookie-name, marks it Secure and keeps it --cookie-csrf-expire', async () => {
    const start = await fetch(`${h.proxyUrl}/auth2/start`, { headers: PAGE, redirect: 'manual' });
    const line = start.headers.getSetCookie().find((l) => l.startsWith('site_session_csrf=')) ?? '';
    assert.match(line, /; Max-Age=600;/);
    assert.match(line, /; Secure/);
  });
});
