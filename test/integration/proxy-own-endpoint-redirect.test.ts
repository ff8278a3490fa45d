// nginx's `proxy_set_header X-Auth-Request-Redirect $request_uri;` in `location /oauth2/`
// (oauth2-proxy's documented configuration, needed by the guide's error_page 401 sign-in) also
// names the proxy's own endpoint when the browser opens it directly. Sending the browser back
// there would loop (oauth2-proxy issue #2613: /oauth2/sign_out → /oauth2/sign_out).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';

describe('a return address that names the proxy\'s own endpoint', () => {
  let h: ProxyHarness;
  before(async () => { h = await startProxyHarness(); });
  after(() => h.close());

  const get = (path: string, redirect: string) =>
    fetch(`${h.proxyUrl}${path}`, { redirect: 'manual', headers: { 'x-auth-request-redirect': redirect } });

  it('sends the browser from /oauth2/sign_out to / instead of back to /oauth2/sign_out', async () => {
    const response = await get('/oauth2/sign_out', '/oauth2/sign_out');
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/');
  });

  it('ignores an absolute X-Auth-Request-Redirect to the proxy\'s own endpoint too', async () => {
    const host = new URL(h.proxyUrl).host;
    const response = await get('/oauth2/sign_out', `http://${host}/oauth2/sign_out?x=1`);
    assert.equal(response.headers.get('location'), '/');
  });

  it('offers / rather than /oauth2/sign_in as the return address on the sign-in page', async () => {
    const page = await (await get('/oauth2/sign_in', '/oauth2/sign_in')).text();
    assert.match(page, /name="rd" value="\/"/);
  });

  it('still follows X-Auth-Request-Redirect to a page of the site', async () => {
    const response = await get('/oauth2/sign_out', '/private/page.html?a=1');
    assert.equal(response.headers.get('location'), '/private/page.html?a=1');
    const page = await (await get('/oauth2/sign_in', '/private/')).text();
    assert.match(page, /name="rd" value="\/private\/"/);
  });
});
