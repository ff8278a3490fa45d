// Paths the proxy answers itself in upstream mode, as oauth2-proxy's router does (oauthproxy.go
// buildServeMux): /robots.txt before any sign-in; its endpoints under --proxy-prefix whatever the
// method, so none reaches the application; its static folder. Any other path under the prefix goes
// on to the sign-in check and the upstream, as oauth2-proxy's prefix subrouter falls through to its
// catch-all (gorilla/mux ignores a subrouter's not-found).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import type { CookieJar } from '../helpers/reference-provider.ts';

describe('paths of the proxy itself, in front of an upstream', () => {
  let h: ProxyHarness;
  let upstream: Server;
  const received: string[] = [];
  let ada: CookieJar;
  before(async () => {
    upstream = createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('from the upstream');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`);
    h = await startProxyHarness({ config: { upstreams: [{ kind: 'http', url }] } });
    ada = (await h.signIn('ada')).jar;
  });
  after(async () => {
    await h.close();
    await new Promise<void>((resolve) => { upstream.closeAllConnections(); upstream.close(() => resolve()); });
  });

  it("answers /robots.txt with oauth2-proxy's, without a sign-in, and never asks the upstream", async () => {
    const before = received.length;
    const response = await fetch(`${h.proxyUrl}/robots.txt`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await response.text(), 'User-agent: *\nDisallow: /\n');
    const signedIn = await ada.fetch(`${h.proxyUrl}/robots.txt`);
    assert.equal(await signedIn.text(), 'User-agent: *\nDisallow: /\n');
    assert.equal((await fetch(`${h.proxyUrl}/robots.txt`, { method: 'HEAD' })).status, 200);
    assert.equal(received.length, before);
  });

  it('answers 405 to an endpoint of its own asked with another method, signed in or not, and never asks the upstream', async () => {
    const before = received.length;
    for (const [method, path, allow] of [
      ['POST', '/oauth2/start', 'GET, HEAD'], ['PUT', '/oauth2/callback', 'GET, HEAD'], ['POST', '/oauth2/userinfo', 'GET, HEAD'],
      ['DELETE', '/oauth2/sign_out', 'GET, HEAD, POST'], ['GET', '/oauth2/backchannel-logout', 'POST'], ['POST', '/ping', 'GET, HEAD'],
    ]) {
      for (const jar of [ada, null]) {
        const init = { method, headers: { accept: 'application/json' }, redirect: 'manual' as const };
        const response = jar ? await jar.fetch(`${h.proxyUrl}${path}`, init) : await fetch(`${h.proxyUrl}${path}`, init);
        assert.equal(response.status, 405, `${method} ${path}`);
        assert.equal(response.headers.get('allow'), allow, `${method} ${path}`);
        await response.arrayBuffer();
      }
    }
    assert.deepEqual(received.slice(before), []);
  });

  it('answers 404 under its static folder, as oauth2-proxy (which keeps its stylesheets there) does for a file it lacks', async () => {
    const response = await ada.fetch(`${h.proxyUrl}/oauth2/static/css/app.css`, { headers: { accept: 'application/json' } });
    assert.equal(response.status, 404);
    await response.arrayBuffer();
    assert.ok(!received.includes('GET /oauth2/static/css/app.css'));
  });

  it('sends any other path under --proxy-prefix to the upstream, only after sign-in, as oauth2-proxy does', async () => {
    const signedOut = await fetch(`${h.proxyUrl}/oauth2/elsewhere`, { headers: { accept: 'application/json' }, redirect: 'manual' });
    assert.equal(signedOut.status, 401);
    await signedOut.arrayBuffer();
    assert.ok(!received.includes('GET /oauth2/elsewhere'));
    const signedIn = await ada.fetch(`${h.proxyUrl}/oauth2/elsewhere`);
    assert.equal(await signedIn.text(), 'from the upstream');
    assert.equal(received.at(-1), 'GET /oauth2/elsewhere');
  });
});
