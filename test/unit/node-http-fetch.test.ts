// nodeHttpFetch must answer as the global fetch does for what openid-client, jose and oidc-provider
// ask of it (src/core/node-http-fetch.ts), against a real node:http server.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FetchResponse } from '../../src/core/fetch-classes.ts';
import { nodeHttpFetch } from '../../src/core/node-http-fetch.ts';

interface Seen { method: string; url: string; headers: IncomingMessage['headers']; body: string }

describe('nodeHttpFetch', () => {
  let server: Server;
  let origin: string;
  let seen: Seen[] = [];
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url === '/json') return res.writeHead(200, { 'content-type': 'application/json', 'x-two': ['a', 'b'] }).end('{"ok":true}');
        if (req.url === '/moved') return res.writeHead(302, { location: '/json' }).end();
        if (req.url === '/empty') return res.writeHead(204).end();
        if (req.url === '/huge') return res.writeHead(200).end(Buffer.alloc(2 * 1024 * 1024));
        if (req.url === '/slow') return setTimeout(() => res.end('late'), 2000).unref();
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${body}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('returns a Response (without undici: src/core/fetch-classes.ts) with status, headers and body', async () => {
    const response = await nodeHttpFetch(`${origin}/json`, { redirect: 'manual' });
    assert.ok(response instanceof FetchResponse);
    assert.equal(Object.prototype.toString.call(response), '[object Response]');
    assert.equal(response.status, 200);
    assert.equal(response.ok, true);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(response.headers.get('x-two'), 'a, b');
    assert.deepEqual(await response.json(), { ok: true });
  });

  it('sends a form body with its content type and length, and headers given as a Headers, a record or pairs', async () => {
    seen = [];
    const form = new URLSearchParams({ grant_type: 'authorization_code', code: 'x y' });
    const text = await (await nodeHttpFetch(new URL(`${origin}/token`), { method: 'post', headers: new Headers({ authorization: 'Basic abc' }), body: form })).text();
    assert.equal(text, 'POST grant_type=authorization_code&code=x+y');
    await nodeHttpFetch(`${origin}/a`, { headers: { Accept: 'application/json' } });
    await nodeHttpFetch(`${origin}/b`, { method: 'POST', headers: [['content-type', 'application/x-www-form-urlencoded']], body: 'logout_token=t' });
    assert.equal(seen[0].headers.authorization, 'Basic abc');
    assert.equal(seen[0].headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8');
    assert.equal(seen[0].headers['content-length'], String(form.toString().length));
    assert.equal(seen[1].headers.accept, 'application/json');
    assert.equal(seen[2].headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(seen[2].body, 'logout_token=t');
  });

  it('does not follow redirects, and refuses to be asked to', async () => {
    const response = await nodeHttpFetch(`${origin}/moved`, { redirect: 'manual' });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/json');
    await assert.rejects(nodeHttpFetch(`${origin}/moved`, { redirect: 'follow' }), TypeError);
  });

  it('gives a 204 a null body', async () => {
    const response = await nodeHttpFetch(`${origin}/empty`);
    assert.equal(response.status, 204);
    assert.equal(response.body, null);
  });

  it('rejects with the signal\'s reason on a timeout, as jose and openid-client expect', async () => {
    await assert.rejects(nodeHttpFetch(`${origin}/slow`, { signal: AbortSignal.timeout(50) }), { name: 'TimeoutError' });
  });

  it('rejects like fetch when the server cannot be reached or the answer is too large', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(nodeHttpFetch(`http://127.0.0.1:${port}/`), { name: 'TypeError', message: 'fetch failed' });
    await assert.rejects(nodeHttpFetch(`${origin}/huge`), { name: 'TypeError', message: 'fetch failed' });
  });

  it('refuses other schemes', async () => {
    await assert.rejects(nodeHttpFetch('file:///etc/passwd'), TypeError);
  });
});
