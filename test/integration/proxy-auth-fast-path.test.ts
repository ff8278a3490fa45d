// `latchkey proxy` answers /oauth2/auth in front of fastify (src/proxy/auth-endpoint.ts); the
// fastify route (serve mode, --metrics-address, app.inject) must give exactly the same answers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadProxyConfig } from '../../src/config/proxy-config.ts';
import { createCookieCodec } from '../../src/proxy/cookie-codec.ts';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.ts';

const secret = randomBytes(32);
const config = loadProxyConfig({
  argv: ['--provider=oidc', '--client-id=c', '--client-secret=s', '--oidc-issuer-url=http://127.0.0.1:9', '--redirect-url=http://localhost/oauth2/callback',
    `--cookie-secret=${secret.toString('base64url')}`, '--email-domain=*', '--upstream=static://202', '--http-address=127.0.0.1:0', '--cookie-secure=false',
    '--set-xauthrequest', '--set-authorization-header', '--log-level=error'],
  env: {},
});

function sessionCookie(expiresIn: number): string {
  const now = Math.floor(Date.now() / 1000);
  const [line] = createCookieCodec(config.cookie.name, config.cookie.secret).write({
    sub: 'u1', email: 'ann@example.com', emailVerified: true, preferredUsername: 'ann', groups: ['friends'], idToken: 'h.p.s', accessToken: 'at', refreshToken: '',
    sid: 's1', createdAt: now - 10, expiresAt: now + expiresIn, refreshAt: 0,
  }, { domain: null, path: '/', secure: false, httpOnly: true, sameSite: 'lax' }, 3600, Date.now(), new Map());
  return line.split(';')[0];
}

const comparable = (headers: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !['date', 'connection', 'keep-alive'].includes(name.toLowerCase())).map(([n, v]) => [n.toLowerCase(), String(v)]));

describe('/oauth2/auth in front of fastify', () => {
  let server: ProxyServer;
  let url: string;
  before(async () => {
    server = await createProxyServer(config);
    url = (await server.listen()).url;
  });
  after(() => server.close());

  const cases: [string, string, Record<string, string>][] = [
    ['no session', '/oauth2/auth', {}],
    ['a valid session', '/oauth2/auth', { cookie: sessionCookie(3600) }],
    ['a valid session outside allowed_groups', '/oauth2/auth?allowed_groups=family', { cookie: sessionCookie(3600) }],
    ['a valid session inside allowed_groups', '/oauth2/auth?allowed_groups=family,friends', { cookie: sessionCookie(3600) }],
    ['an expired session (deleted)', '/oauth2/auth', { cookie: sessionCookie(-5) }],
    ['a forged cookie', '/oauth2/auth', { cookie: `${config.cookie.name}=AAAA${sessionCookie(3600).slice(20)}` }],
  ];
  for (const [name, path, headers] of cases) {
    for (const method of ['GET', 'HEAD'] as const) {
      it(`${method} with ${name}: same status, headers and empty body as the fastify route`, async () => {
        const direct = await fetch(url + path, { method, headers });
        const viaFastify = await server.app.inject({ method, url: path, headers });
        assert.ok([202, 401, 403].includes(direct.status));
        assert.equal(direct.status, viaFastify.statusCode);
        assert.deepEqual(comparable(Object.fromEntries(direct.headers)), comparable(viaFastify.headers));
        assert.equal(await direct.text(), '');
      });
    }
  }

  // oauth2-proxy answers its auth endpoint for every method; a POST that reached the upstream
  // (static://202 here) would pass a user outside allowed_groups.
  for (const [name, path, headers] of cases) {
    it(`answers every other method with ${name} exactly as GET, whatever its body, and so does the fastify route`, async () => {
      const get = await fetch(url + path, { headers });
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        const sent = { method, headers: { ...headers, 'content-type': 'application/xml' }, body: '<x/>' };
        const direct = await fetch(url + path, sent);
        const viaFastify = await server.app.inject({ ...sent, url: path, payload: sent.body });
        assert.equal(direct.status, get.status, method);
        assert.deepEqual(comparable(Object.fromEntries(direct.headers)), comparable(Object.fromEntries(get.headers)), method);
        assert.equal(await direct.text(), '');
        assert.equal(viaFastify.statusCode, get.status, `${method} via fastify`);
        assert.deepEqual(comparable(viaFastify.headers), comparable(Object.fromEntries(get.headers)), `${method} via fastify`);
      }
    });
  }

  // A body is never read, so neither a Content-Type nobody can parse nor a method fastify's router
  // does not know may turn the answer into a 415 or 400 (nginx makes a 500 of anything else).
  for (const [name, path, headers] of cases) {
    it(`answers a request with an unparsable Content-Type or the QUERY method with ${name} exactly as GET, and so does the fastify route`, async () => {
      const get = await fetch(url + path, { headers });
      const odd = [
        { method: 'POST', headers: { ...headers, 'content-type': ';;' }, body: 'x' },
        { method: 'DELETE', headers: { ...headers, 'content-type': 'text/plain; charset' }, body: 'x' },
        { method: 'QUERY', headers: { ...headers, 'content-type': 'application/json' }, body: '{' },
      ];
      for (const sent of odd) {
        const direct = await fetch(url + path, sent);
        const viaFastify = await server.app.inject({ ...sent, method: sent.method as 'POST', url: path, payload: sent.body });
        assert.equal(direct.status, get.status, sent.method);
        assert.equal(await direct.text(), '');
        assert.equal(viaFastify.statusCode, get.status, `${sent.method} via fastify: ${viaFastify.body}`);
        assert.deepEqual(comparable(viaFastify.headers), comparable(Object.fromEntries(get.headers)), `${sent.method} via fastify`);
      }
    });
  }

  it('leaves every other path to fastify', async () => {
    assert.equal((await fetch(`${url}/oauth2/auth/`)).status, (await server.app.inject({ url: '/oauth2/auth/' })).statusCode);
    assert.equal((await fetch(`${url}/ping`)).status, 200);
  });
});
