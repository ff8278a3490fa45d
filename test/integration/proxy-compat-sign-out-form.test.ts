// rd in a POST body to /oauth2/sign_out, read as oauth2-proxy reads it (req.Form: a urlencoded
// body, then the query), through the same validation as the query's rd.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import type { CookieJar } from '../helpers/reference-provider.ts';

const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const FORM = { ...SAME_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' };

describe('rd in the body of a sign-out form', () => {
  let h: ProxyHarness;
  before(async () => { h = await startProxyHarness(); });
  after(() => h.close());

  const signedIn = async () => (await h.signIn('ada')).jar;
  const signOut = (jar: CookieJar, init: RequestInit, query = '') => jar.fetch(`${h.proxyUrl}/oauth2/sign_out${query}`, { method: 'POST', ...init });

  it('leads there after signing out', async () => {
    const jar = await signedIn();
    const response = await signOut(jar, { headers: FORM, body: new URLSearchParams({ rd: '/goodbye?a=1' }).toString() });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/goodbye?a=1');
    assert.equal(jar.get(h.proxyUrl, '_oauth2_proxy'), undefined, 'signed out');
  });

  it("wins over the query's rd, as in Go's req.Form, and an empty one does not", async () => {
    const jar = await signedIn();
    const response = await signOut(jar, { headers: FORM, body: 'rd=%2Ffrom-body' }, '?rd=%2Ffrom-query');
    assert.equal(response.headers.get('location'), '/from-body');
    const empty = await signOut(await signedIn(), { headers: FORM, body: 'rd=' }, '?rd=%2Ffrom-query');
    assert.equal(empty.headers.get('location'), '/from-query');
  });

  it("passes the query's validation: another site's address leads to /", async () => {
    for (const rd of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const response = await signOut(await signedIn(), { headers: FORM, body: new URLSearchParams({ rd }).toString() });
      assert.equal(response.status, 302, rd);
      assert.equal(response.headers.get('location'), '/', rd);
    }
  });

  it('is kept for the question asked when another site posted the form', async () => {
    const jar = await signedIn();
    const response = await signOut(jar, { headers: { ...FORM, 'sec-fetch-site': 'cross-site' }, body: 'rd=%2Fgoodbye' });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /action="\/oauth2\/sign_out\?rd=%2Fgoodbye"/);
    assert.ok(jar.get(h.proxyUrl, '_oauth2_proxy'), 'nothing signed out yet');
  });

  it('is not read from a body of another type, which is left unread rather than refused', async () => {
    const form = new FormData();
    form.set('rd', '/from-multipart');
    const multipart = await signOut(await signedIn(), { headers: SAME_ORIGIN, body: form }, '?rd=%2Ffrom-query');
    assert.equal(multipart.status, 302);
    assert.equal(multipart.headers.get('location'), '/from-query');
    const json = await signOut(await signedIn(), { headers: { ...SAME_ORIGIN, 'content-type': 'application/json' }, body: '{"rd":"/from-json"}' });
    assert.equal(json.headers.get('location'), '/');
  });

  it('is refused with 413, signing nothing out, past 16 KiB', async () => {
    const jar = await signedIn();
    const response = await signOut(jar, { headers: FORM, body: `rd=%2F${'a'.repeat(17 * 1024)}` });
    assert.equal(response.status, 413);
    await response.arrayBuffer();
    assert.ok(jar.get(h.proxyUrl, '_oauth2_proxy'), 'still signed in');
  });
});
