import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { webauthnAssetRoutes } from '../../src/webauthn/asset-routes.ts';

describe('passkey browser assets', () => {
  let app: FastifyInstance;
  before(async () => {
    app = Fastify();
    await app.register(webauthnAssetRoutes);
  });
  after(() => app.close());

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

  it('serves the passkey script as JavaScript with caching headers', async () => {
    const response = await get('/assets/passkey.js');
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(response.headers['cache-control'], 'public, max-age=3600');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.match(response.body, /data-passkey-login/);
  });

  it('serves every module SimpleWebAuthn’s ESM build imports, starting from /assets/simplewebauthn-browser.js', async () => {
    const seen = new Set<string>();
    const exported = new Set<string>();
    const queue = ['/assets/simplewebauthn-browser.js'];
    while (queue.length) {
      const url = queue.shift()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const response = await get(url);
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.headers['content-type'], 'text/javascript; charset=utf-8', url);
      for (const match of response.body.matchAll(/export (?:async )?(?:function|class|const) (\w+)/g)) exported.add(match[1]);
      for (const match of response.body.matchAll(/(?:from|import)\s*['"]([^'"]+)['"]/g)) {
        assert.match(match[1], /^\.\.?\//, `bare import ${match[1]} in ${url} would not load in a browser`);
        queue.push(new URL(match[1], `http://x${url}`).pathname);
      }
    }
    assert.ok(seen.size > 5);
    for (const name of ['startRegistration', 'startAuthentication']) assert.ok(exported.has(name), name);
  });

  it('lets the versioned library modules be cached forever', async () => {
    const shim = await get('/assets/simplewebauthn-browser.js');
    const target = /'\.\/(simplewebauthn-browser@[^']+)'/.exec(shim.body)![1];
    const response = await get(`/assets/${target}`);
    assert.equal(response.headers['cache-control'], 'public, max-age=31536000, immutable');
  });

  it('answers 304 when the browser already has the current version', async () => {
    const first = await get('/assets/passkey.js');
    const again = await get('/assets/passkey.js', { 'if-none-match': String(first.headers.etag) });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
  });

  it('serves nothing outside the library’s module files', async () => {
    const shim = await get('/assets/simplewebauthn-browser.js');
    const target = /'\.\/(simplewebauthn-browser@[^']+)\//.exec(shim.body)![1];
    for (const url of [`/assets/${target}/index.d.ts`, `/assets/${target}/../package.json`, `/assets/${target}/%2e%2e/package.json`]) {
      assert.equal((await get(url)).statusCode, 404, url);
    }
  });
});
