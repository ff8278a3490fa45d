// `latchkey serve` and absolute-form request-targets (`GET http://host/path HTTP/1.1`), which RFC
// 9112 §3.2.2 says a server MUST accept, as nginx does: the path is the URI's, and so is the host
// (its authority replaces Host). What is checked against the protected prefixes, what is served and
// what every redirect names must stay the one path, whatever the URI's spelling.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawRequest } from '../helpers/raw-request.ts';
import { startServe, type ServeServer } from '../helpers/serve-server.ts';

describe('latchkey serve: absolute-form request-targets', () => {
  let serve: ServeServer;
  before(async () => {
    serve = await startServe();
  });
  after(() => serve.close());

  it('serves a public page asked for in absolute-form as in origin-form', async () => {
    for (const target of [`${serve.siteOrigin}/`, serve.siteOrigin, `${serve.siteOrigin}/index.html?x=1`]) {
      const answer = await rawRequest(serve.siteOrigin, target);
      assert.equal(answer.status, 200, target);
      assert.match(answer.body, /Public home/);
    }
  });

  it('protects a protected file asked for in absolute-form, with the same sign-in redirect as origin-form', async () => {
    const origin = serve.siteOrigin;
    const spellings = [`${origin}/private/notes.txt`, `${origin}//private/notes.txt`, `${origin}/%70rivate/notes.txt`,
      `${origin}/public/../private/notes.txt`, `${origin.toUpperCase()}/private/notes.txt`,
      'http://127.0.0.1:1/private/notes.txt', 'https://other.example/private/notes.txt'];
    const expected = await rawRequest(origin, '/private/notes.txt');
    assert.equal(expected.status, 302);
    for (const target of spellings) {
      const answer = await rawRequest(origin, target);
      assert.equal(answer.status, 302, target);
      assert.equal(answer.headers.location, '/oauth2/start?rd=%2Fprivate%2Fnotes.txt', target);
      assert.equal(answer.headers['cache-control'], 'private, no-store', target);
      assert.doesNotMatch(answer.body, /SECRET/, target);
    }
  });

  it('never leaks a protected file through absolute-form, whatever the method', async () => {
    const { host } = new URL(serve.siteOrigin);
    const targets = [`http://${host}/private/notes.txt`, `http://${host}//private/notes.txt`, `http://${host}/private`,
      `http://${host}/oauth2/../private/notes.txt`, `http://${host}/private/family/`, `http://user:pw@${host}/private/notes.txt`,
      `http://${host}@${host}/private/notes.txt`, `ftp://${host}/private/notes.txt`, `http://${host}:1:2/private/notes.txt`];
    for (const target of targets) {
      for (const method of ['GET', 'HEAD', 'POST']) {
        const answer = await rawRequest(serve.siteOrigin, target, { method, headers: { range: 'bytes=0-5' } });
        assert.ok(answer.status !== 200 && answer.status !== 206, `${method} ${target}: ${answer.status}`);
        assert.doesNotMatch(answer.body, /SECRET/, `${method} ${target}`);
      }
    }
  });

  it('refuses userinfo and schemes other than http and https with 400', async () => {
    const { host } = new URL(serve.siteOrigin);
    for (const target of [`http://user:pw@${host}/`, `http://user@${host}/private/notes.txt`, `ftp://${host}/`, `ws://${host}/`, 'http:///']) {
      for (const method of ['GET', 'POST']) assert.equal((await rawRequest(serve.siteOrigin, target, { method })).status, 400, `${method} ${target}`);
    }
  });

  it("sends the proxy's endpoints to the proxy when asked for in absolute-form", async () => {
    const anonymous = await rawRequest(serve.siteOrigin, `${serve.siteOrigin}/oauth2/auth`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body, '');
    assert.equal((await rawRequest(serve.siteOrigin, `${serve.siteOrigin}/ping`)).status, 200);
    const start = await rawRequest(serve.siteOrigin, `${serve.siteOrigin}/oauth2/start?rd=%2Fprivate%2F`);
    assert.equal(start.status, 302);
    assert.ok(String(start.headers.location).startsWith(`${serve.idOrigin}/authorize?`), String(start.headers.location));
  });
});
