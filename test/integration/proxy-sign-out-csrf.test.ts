// Logout CSRF: /oauth2/sign_out signs out when asked from this site, the provider's pages, the
// address bar or a script, as oauth2-proxy does; asked from another site (an <img>, a link, a form
// there) it signs nothing out and asks, with a button that posts back with the same checked rd.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validateRedirect } from '../../src/proxy/redirect.ts';
import { loadRedirectCorpus } from '../helpers/corpus.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import type { CookieJar } from '../helpers/reference-provider.ts';

const corpus = loadRedirectCorpus();
const NAVIGATION = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const CROSS_SITE_IMAGE = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' };

const unescapeAttribute = (value: string) =>
  value.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#96;/g, '`').replace(/&amp;/g, '&');

/** The confirmation page's form: its method and action (unescaped). */
function confirmationForm(page: string): { method: string; action: string } {
  const form = /<form method="([^"]*)" action="([^"]*)">/.exec(page);
  assert.ok(form, `a form on the page: ${page.slice(0, 300)}`);
  return { method: form[1], action: unescapeAttribute(form[2]) };
}

describe('sign-out asked from another site (logout CSRF)', () => {
  let h: ProxyHarness;
  before(async () => { h = await startProxyHarness(); });
  after(() => h.close());

  const signedIn = async () => (await h.signIn('ada')).jar;
  const stillSignedIn = async (jar: CookieJar) => {
    assert.ok(jar.get(h.proxyUrl, '_oauth2_proxy'), 'the session cookie is kept');
    assert.equal((await h.authCheck(jar)).status, 202, 'the session still works');
  };
  const signedOut = async (jar: CookieJar) => {
    assert.equal(jar.get(h.proxyUrl, '_oauth2_proxy'), undefined, 'the session cookie is deleted');
    assert.equal((await h.authCheck(jar)).status, 401);
  };

  for (const [name, headers] of Object.entries({
    'a link on the site itself (same-origin)': { ...NAVIGATION, 'sec-fetch-site': 'same-origin' },
    "a link on the provider's pages (same-site)": { ...NAVIGATION, 'sec-fetch-site': 'same-site' },
    'the address bar or a bookmark (none)': { ...NAVIGATION, 'sec-fetch-site': 'none' },
    'a script or curl (no Fetch Metadata)': {},
  })) {
    it(`signs out at once for ${name}`, async () => {
      const jar = await signedIn();
      const response = await jar.fetch(`${h.proxyUrl}/oauth2/sign_out?rd=${encodeURIComponent('/goodbye')}`, { headers });
      assert.equal(response.status, 302);
      assert.equal(response.headers.get('location'), '/goodbye');
      await signedOut(jar);
    });
  }

  it('signs nothing out for a link on another site, and asks with a button that posts back with the same rd', async () => {
    const jar = await signedIn();
    const response = await jar.fetch(`${h.proxyUrl}/oauth2/sign_out?rd=${encodeURIComponent('/goodbye?a=1&b=2')}`, { headers: { ...NAVIGATION, 'sec-fetch-site': 'cross-site' } });
    assert.equal(response.status, 200);
    assert.deepEqual(response.headers.getSetCookie(), []);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.match(response.headers.get('content-type')!, /^text\/html/);
    assert.match(response.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    const page = await response.text();
    assert.match(page, /<h1>Sign out\?<\/h1>/);
    assert.match(page, /another website/);
    assert.match(page, /<button type="submit">Sign out<\/button>/);
    assert.deepEqual(confirmationForm(page), { method: 'post', action: '/oauth2/sign_out?rd=%2Fgoodbye%3Fa%3D1%26b%3D2' });
    await stillSignedIn(jar);
  });

  it('keeps the session when another site embeds /oauth2/sign_out as an image, or with HEAD', async () => {
    const jar = await signedIn();
    const image = await jar.fetch(`${h.proxyUrl}/oauth2/sign_out`, { headers: CROSS_SITE_IMAGE });
    assert.equal(image.status, 200);
    assert.deepEqual(image.headers.getSetCookie(), []);
    const head = await jar.fetch(`${h.proxyUrl}/oauth2/sign_out`, { method: 'HEAD', headers: CROSS_SITE_IMAGE });
    assert.deepEqual(head.headers.getSetCookie(), []);
    await stillSignedIn(jar);
  });

  // /oauth2/start deleted the session before going to the provider, so a link or an <img> there was
  // a sign-out from any website. oauth2-proxy's OAuthStart leaves the session alone, and so does
  // this one now: the callback replaces it (proxy-session-security.test.ts).
  it('keeps the session when a link on another site opens /oauth2/start', async () => {
    const jar = await signedIn();
    const response = await jar.fetch(`${h.proxyUrl}/oauth2/start?rd=/`, { headers: { ...NAVIGATION, 'sec-fetch-site': 'cross-site' } });
    assert.equal(response.status, 302);
    assert.ok(response.headers.get('location')!.startsWith(h.op.issuer), 'on to the provider');
    assert.deepEqual(response.headers.getSetCookie().map((line) => line.split('=')[0]), ['_oauth2_proxy_csrf'], 'the CSRF cookie, and nothing that clears the session');
    await stillSignedIn(jar);
  });

  it('answers an image or a script at /oauth2/start 401, with no CSRF cookie, and keeps the session', async () => {
    const jar = await signedIn();
    for (const headers of [CROSS_SITE_IMAGE, { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' },
      { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' }]) {
      const response = await jar.fetch(`${h.proxyUrl}/oauth2/start?rd=/`, { headers: { accept: 'application/json', ...headers } });
      assert.equal(response.status, 401, JSON.stringify(headers));
      assert.deepEqual(response.headers.getSetCookie(), [], 'no cookie at all');
      assert.equal((await response.json()).error, 'unauthorized');
    }
    await stillSignedIn(jar);
  });

  it('takes a Sec-Fetch-Site value no browser sends as cross-site', async () => {
    const jar = await signedIn();
    const response = await jar.fetch(`${h.proxyUrl}/oauth2/sign_out`, { headers: { 'sec-fetch-site': 'elsewhere' } });
    assert.equal(response.status, 200);
    await stillSignedIn(jar);
  });

  it('signs out when the confirmation page\'s button is pressed (a same-origin POST), and goes to the rd', async () => {
    const jar = await signedIn();
    const page = await (await jar.fetch(`${h.proxyUrl}/oauth2/sign_out?rd=${encodeURIComponent('/goodbye')}`, { headers: CROSS_SITE_IMAGE })).text();
    const form = confirmationForm(page);
    const origin = new URL(h.proxyUrl).origin;
    const response = await jar.fetch(new URL(form.action, h.proxyUrl).href, {
      method: 'POST', headers: { ...NAVIGATION, 'sec-fetch-site': 'same-origin', origin, 'content-type': 'application/x-www-form-urlencoded' }, body: '',
    });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/goodbye');
    await signedOut(jar);
  });

  it("signs out for a POST from the site's own page, or from a script, as oauth2-proxy does", async () => {
    const origin = new URL(h.proxyUrl).origin;
    const cases: Record<string, string>[] = [
      { ...NAVIGATION, 'sec-fetch-site': 'same-origin', origin },
      { origin }, // a browser from before Fetch Metadata
      { origin: 'http://127.0.0.1:1' }, // the same, behind an edge that passes Host without its port (nginx's $host)
      {}, // curl, a script
    ];
    for (const headers of cases) {
      const jar = await signedIn();
      const response = await jar.fetch(`${h.proxyUrl}/oauth2/sign_out`, { method: 'POST', headers });
      assert.equal(response.status, 302, JSON.stringify(headers));
      await signedOut(jar);
    }
  });

  it('signs nothing out for a form on another site that posts here, with or without Fetch Metadata', async () => {
    for (const headers of [
      { ...NAVIGATION, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      { origin: 'https://evil.example' }, // a browser from before Fetch Metadata
      { origin: 'null' }, // a sandboxed frame or a data: URL
    ]) {
      const jar = await signedIn();
      const response = await jar.fetch(`${h.proxyUrl}/oauth2/sign_out?rd=%2Fgoodbye`, { method: 'POST', headers });
      assert.equal(response.status, 200, JSON.stringify(headers));
      assert.deepEqual(confirmationForm(await response.text()), { method: 'post', action: '/oauth2/sign_out?rd=%2Fgoodbye' });
      await stillSignedIn(jar);
    }
  });

  it('offers on the confirmation page only a target that sign-out itself would go to', async () => {
    const site = new URL(corpus.site);
    const endSession = h.proxy.runtime.oidc.endSessionEndpoint;
    assert.ok(endSession, 'the reference provider has an end_session_endpoint');
    const confirmTarget = async (rd: string) => {
      const response = await h.proxy.app.inject({
        method: 'GET', url: `/oauth2/sign_out?rd=${encodeURIComponent(rd)}`, headers: { host: site.host, ...CROSS_SITE_IMAGE },
      });
      assert.equal(response.statusCode, 200, rd);
      const action = new URL(confirmationForm(response.body).action, site);
      assert.equal(action.pathname, '/oauth2/sign_out');
      return action.searchParams.get('rd');
    };
    const offered = [];
    for (const { value } of corpus.redirect_open) {
      const target = await confirmTarget(value);
      if (target !== '/') offered.push({ value, target });
    }
    assert.deepEqual(offered, [], 'every open redirect of the shared corpus becomes /');
    for (const rd of ['/private/notes/?a=1&b=2', `${site.origin}/private/`, `${endSession}?client_id=proxy-client`, '/ünïcode']) {
      const target = await confirmTarget(rd);
      assert.equal(target, validateRedirect(rd, { requestHost: site.host, whitelistDomains: [], providerLogout: endSession }), rd);
      assert.notEqual(target, '/', rd);
    }
  });
});
