// The Lua engine of the auth cache asks the proxy itself, over connections of its own (lua
// cosockets), and reads the answer with its own small HTTP/1.x reader. Here real nginx runs the
// generated configuration in front of a fake proxy written on raw sockets, which answers in every
// shape HTTP/1.x allows (and some it does not), closes connections at the worst moment, and
// records what it was asked: every answer the check cannot read for certain must be a 500, and
// every one it can must behave as the real proxy's does (deploy-auth-cache.test.ts).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { makePlan, type DeploymentPlan } from '../../src/deploy/plan.ts';
import { freePort, makeCertificate, onFreshPorts, requireNginxLuaModules, startNginx, writeNginxConf } from '../helpers/deploy-tools.ts';
import { edgeFetchHttp2 } from '../helpers/deploy-http2-fetch.ts';
import { edgeFetch } from '../helpers/edge-fetch.ts';

const SITE = 'agents.example.com';
const work = mkdtempSync(join(tmpdir(), 'latchkey-lua-check-'));
after(() => rmSync(work, { recursive: true, force: true }));
const tls = makeCertificate(work, [SITE, 'id.example.com']);
const caPem = readFileSync(tls.certificate, 'utf8');

const ok = (extra = '') => `HTTP/1.1 202 Accepted\r\nX-Auth-Request-User: ada\r\nX-Auth-Request-Email: ada@example.com\r\n${extra}Content-Length: 0\r\n\r\n`;

/** What the fake proxy answers to /oauth2/auth, by the `case` cookie of the request. */
const ANSWERS: Record<string, string | ((socket: Socket, answered: number) => void)> = {
  plain: ok(),
  'no-reason-phrase': 'HTTP/1.1 202\r\nContent-Length: 0\r\n\r\n',
  'chunked-body': 'HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n',
  'chunked-empty': 'HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'length-body': 'HTTP/1.1 202 Accepted\r\nContent-Length: 5\r\n\r\nhello',
  'folded-case': 'HTTP/1.1 202 Accepted\r\nx-auth-request-user:   ada  \r\ncontent-length: 0\r\n\r\n',
  'skip-route': ok('X-Accel-Expires: 0\r\n'),
  'close': (socket) => socket.end(`HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`),
  'http-1.0': (socket) => socket.end('HTTP/1.0 202 Accepted\r\n\r\n'),
  'until-close': (socket) => socket.end('HTTP/1.1 202 Accepted\r\n\r\nbody until the connection closes'),
  'cookies-401': 'HTTP/1.1 401 Unauthorized\r\nSet-Cookie: _oauth2_proxy_0=; Max-Age=0; Path=/\r\nSet-Cookie: _oauth2_proxy_1=; Max-Age=0; Path=/\r\nContent-Length: 0\r\n\r\n',
  'refresh-202': ok('Set-Cookie: _oauth2_proxy_0=new0; Path=/\r\nSet-Cookie: _oauth2_proxy_1=new1; Path=/\r\n'),
  // everything below must be a 500, never the page
  redirect: 'HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n',
  'server-error': 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n',
  'not-http': 'SSH-2.0-OpenSSH_9.2\r\n\r\n',
  'http-2-preface': 'HTTP/2 202\r\n\r\n',
  'header-without-colon': 'HTTP/1.1 202 Accepted\r\nX-Auth-Request-User ada\r\nContent-Length: 0\r\n\r\n',
  'head-too-long': `HTTP/1.1 202 Accepted\r\nX-Pad: ${'x'.repeat(70_000)}\r\nContent-Length: 0\r\n\r\n`,
  'cut-in-headers': (socket) => socket.end('HTTP/1.1 202 Accepted\r\nX-Auth-Req'),
  'cut-before-answer': (socket) => socket.destroy(),
  // a pooled connection the proxy closed just as it was used: asked again on a new one
  'stale': (socket, answered) => (answered > 0 ? socket.destroy() : socket.write(ok())),
};

interface FakeProxy { connections: number; asked: { head: string; case: string }[]; close(): Promise<void> }

/** A proxy on raw sockets: /oauth2/auth as ANSWERS says, /oauth2/sign_in a tiny page. */
async function startFakeProxy(listen: (server: Server) => Promise<void>): Promise<FakeProxy> {
  const state: FakeProxy = { connections: 0, asked: [], close: async () => {} };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    let answered = 0;
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      pending += data;
      let end: number;
      while ((end = pending.indexOf('\r\n\r\n')) >= 0 && !socket.destroyed) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        if (/^GET \/oauth2\/sign_in/.test(head)) {
          socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nsign in');
          answered++;
          continue;
        }
        const name = /^cookie: (?:.*; )?case=([^;\r\n]+)/im.exec(head)?.[1] ?? 'plain';
        state.asked.push({ head, case: name });
        const answer = ANSWERS[name];
        if (typeof answer === 'string') socket.write(answer);
        else answer(socket, answered);
        answered++;
      }
    });
  });
  await listen(server);
  state.close = () => new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  });
  return state;
}

function writeSite(root: string): void {
  for (const [name, text] of Object.entries({ 'index.html': 'public home', '404.html': 'not found', 'private/page.html': 'private page', 'private/family/page.html': 'family page' })) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
}

async function startEdge(name: string, proxy: Pick<DeploymentPlan, 'proxyUpstream' | 'proxySocket'>) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return onFreshPorts(3, async () => {
    const port = await freePort();
    const plan = makePlan({
      tls, siteRoot: join(dir, 'site'), accessLogPath: join(dir, 'latchkey-access.log'), defaultAccessLogPath: join(dir, 'access.log'), errorLogPath: join(dir, 'error.log'),
      listenAddress: '127.0.0.1', httpsPort: port, httpPort: await freePort(), ...proxy,
      protectedPrefixes: [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family', 'x@y'] }],
      authCacheSeconds: 30, authCacheEngine: 'lua',
    });
    writeSite(plan.siteRoot);
    writeNginxConf(dir, generateNginxConfig(plan), requireNginxLuaModules());
    const nginx = await startNginx(dir, port);
    return { port, dir, stop: () => nginx.stop() };
  });
}

describe('the Lua auth check reads the proxy\'s answers over its own connections, and fails closed', () => {
  let proxy: FakeProxy;
  let edge: Awaited<ReturnType<typeof startEdge>>;
  let serial = 0;
  before(async () => {
    const port = await freePort();
    proxy = await startFakeProxy((server) => new Promise((resolve) => server.listen(port, '127.0.0.1', resolve)));
    edge = await startEdge('tcp', { proxyUpstream: `127.0.0.1:${port}`, proxySocket: null });
  });
  after(async () => {
    await edge?.stop();
    await proxy?.close();
  });

  /** A request with the `case` cookie and a cookie of its own, so that it is never a cache hit. */
  const get = (name: string, path = '/private/page.html') => edgeFetch(`https://${SITE}:${edge.port}${path}`, { port: edge.port, caPem }, { cookie: `case=${name}; n=${++serial}` });
  const asked = (name: string) => proxy.asked.filter((a) => a.case === name).length;

  it('sends the question in HTTP/1.1 with the auth location\'s headers, the rule\'s groups in the query', async () => {
    const answer = await get('plain', '/private/family/page.html?x=1');
    assert.equal(answer.body, 'family page');
    const head = proxy.asked.at(-1)!.head.split('\r\n');
    assert.equal(head[0], 'GET /oauth2/auth?allowed_groups=family,x%40y HTTP/1.1');
    assert.deepEqual(head.slice(1).map((line) => line.slice(0, line.indexOf(':'))).sort(),
      ['Cookie', 'Host', 'X-Forwarded-For', 'X-Forwarded-Host', 'X-Forwarded-Method', 'X-Forwarded-Proto', 'X-Forwarded-Uri', 'X-Real-IP']);
    assert.ok(head.includes('X-Forwarded-Uri: /private/family/page.html?x=1'));
    assert.ok(head.includes(`Host: ${SITE}:${edge.port}`));
  });

  it('keeps connections to the proxy open and uses them again', async () => {
    await get('plain');
    const before = proxy.connections;
    for (let i = 0; i < 5; i++) assert.equal((await get('plain')).body, 'private page');
    assert.equal(proxy.connections, before, 'five questions, no new connection');
  });

  for (const name of ['no-reason-phrase', 'chunked-body', 'chunked-empty', 'length-body', 'folded-case', 'close', 'http-1.0', 'until-close']) {
    it(`admits on a 202 answered as "${name}", and can ask again afterwards`, async () => {
      assert.equal((await get(name)).body, 'private page');
      assert.equal((await get(name)).body, 'private page');
      assert.equal((await get('plain')).body, 'private page', 'the connection left behind is usable, or was not kept');
    });
  }

  it('answers a 202 from the cache afterwards, but never a skip route\'s pass or a refresh', async () => {
    for (const [name, expected] of [['plain', 1], ['skip-route', 2], ['refresh-202', 2]] as const) {
      const cookie = `case=${name}; n=${++serial}`;
      const before = asked(name);
      for (let i = 0; i < 2; i++) {
        const answer = await edgeFetch(`https://${SITE}:${edge.port}/private/page.html`, { port: edge.port, caPem }, { cookie });
        assert.equal(answer.body, 'private page');
        if (name === 'refresh-202') assert.deepEqual(answer.headers['set-cookie'], ['_oauth2_proxy_0=new0; Path=/', '_oauth2_proxy_1=new1; Path=/']);
      }
      assert.equal(asked(name) - before, expected, name);
    }
  });

  it('passes every Set-Cookie line of a 401 on with the sign-in page', async () => {
    const answer = await get('cookies-401');
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'sign in');
    assert.deepEqual(answer.headers['set-cookie'], ['_oauth2_proxy_0=; Max-Age=0; Path=/', '_oauth2_proxy_1=; Max-Age=0; Path=/']);
  });

  for (const name of ['redirect', 'server-error', 'not-http', 'http-2-preface', 'header-without-colon', 'head-too-long', 'cut-in-headers', 'cut-before-answer']) {
    it(`answers 500, never the page, when the proxy's answer is "${name}"`, async () => {
      const logged = () => readFileSync(join(edge.dir, 'error.log'), 'utf8').match(/latchkey: (asking the proxy|the proxy answered) \/oauth2\/auth/g)?.length ?? 0;
      const before = logged();
      const answer = await get(name);
      assert.equal(answer.status, 500);
      assert.doesNotMatch(answer.body, /private page/);
      assert.equal(logged() - before, 1, 'the error log says why');
    });
  }

  it('asks once more on a new connection when a kept one was closed by the proxy, and only once', async () => {
    await get('plain'); // a used connection in the pool
    const before = asked('stale');
    const connections = proxy.connections;
    const answer = await get('stale');
    assert.equal(answer.body, 'private page');
    assert.equal(asked('stale') - before, 2, 'asked on the kept connection, then on a new one');
    assert.equal(proxy.connections - connections, 1);
  });

  it('answers 500 over HTTP/2 as well, and the page when the proxy admits', async () => {
    const url = (path: string) => `https://${SITE}:${edge.port}${path}`;
    const broken = await edgeFetchHttp2(url('/private/page.html'), { port: edge.port, caPem }, { cookie: `case=not-http; n=${++serial}` });
    assert.equal(broken.alpn, 'h2');
    assert.equal(broken.status, 500);
    assert.equal((await edgeFetchHttp2(url('/private/page.html'), { port: edge.port, caPem }, { cookie: `case=plain; n=${++serial}` })).body, 'private page');
  });
});

describe('the Lua auth check reaches the proxy over a unix socket (--proxy-socket) and over IPv6', () => {
  it('admits through both', async () => {
    const socket = join(work, 'proxy.sock');
    const port = await freePort();
    const onSocket = await startFakeProxy((server) => new Promise((resolve) => server.listen(socket, resolve)));
    const onIpv6 = await startFakeProxy((server) => new Promise((resolve) => server.listen(port, '::1', resolve)));
    const edges: Awaited<ReturnType<typeof startEdge>>[] = [];
    try {
      edges.push(await startEdge('socket', { proxySocket: socket, proxyUpstream: '127.0.0.1:4180' }));
      edges.push(await startEdge('ipv6', { proxySocket: null, proxyUpstream: `[::1]:${port}` }));
      for (const [edge, proxy] of [[edges[0], onSocket], [edges[1], onIpv6]] as const) {
        const answer = await edgeFetch(`https://${SITE}:${edge.port}/private/page.html`, { port: edge.port, caPem }, { cookie: 'case=plain' });
        assert.equal(answer.body, 'private page');
        assert.equal(proxy.asked.length, 1);
      }
    } finally {
      for (const edge of edges) await edge.stop();
      await onSocket.close();
      await onIpv6.close();
    }
  });
});
