// WebSocket upgrades through `latchkey proxy --upstream=http://…` (--proxy-websockets, on by
// default as in oauth2-proxy), against the reference provider and a real WebSocket server, with
// Node's own WebSocket client as the browser. An upgrade passes the same sign-in check as any
// request and carries the same identity headers; a refused one never reaches the application.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/free-port.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import type { CookieJar } from '../helpers/reference-provider.ts';
import { startWebSocketEcho } from '../helpers/websocket-echo.ts';

const WEBSOCKET_REQUEST = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };

interface Handshake { status: number; headers: IncomingHttpHeaders; body: string }

/** Sends an upgrade request by hand and reports the answer: 101 (the socket is then closed) or any other status with its body. */
function handshake(url: string, headers: Record<string, string>): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers });
    request.on('upgrade', (answer, socket) => {
      socket.destroy();
      resolve({ status: answer.statusCode ?? 0, headers: answer.headers, body: '' });
    });
    request.on('response', (answer) => {
      let body = '';
      answer.setEncoding('utf8');
      answer.on('data', (chunk: string) => { body += chunk; });
      answer.on('end', () => resolve({ status: answer.statusCode ?? 0, headers: answer.headers, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

/** Opens a WebSocket with Node's client, sends `message` and resolves with the first message back. */
function openWebSocket(url: string, cookie: string) {
  // Node's WebSocket (undici) takes headers as an extension of the standard constructor
  const socket = new WebSocket(url.replace(/^http/, 'ws'), { headers: { cookie } } as unknown as string[]);
  const opened = new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`WebSocket to ${url} failed`));
  });
  const closed = new Promise<number>((resolve) => { socket.onclose = (event) => resolve(event.code); });
  const exchange = async (message: string) => {
    const answer = new Promise<string>((resolve) => { socket.onmessage = (event) => resolve(String(event.data)); });
    socket.send(message);
    return answer;
  };
  return { socket, opened, closed, exchange };
}

async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), what);
}

describe('proxy WebSocket upgrades to an http upstream', () => {
  let h: ProxyHarness;
  let echo: Awaited<ReturnType<typeof startWebSocketEcho>>;
  let ada: CookieJar;
  let graceFromBefore: CookieJar;
  let sibling: ProxyHarness;

  before(async () => {
    echo = await startWebSocketEcho();
    const downPort = await freePort();
    const cookieSecret = randomBytes(32);
    h = await startProxyHarness({
      config: {
        upstreams: [
          { kind: 'http', url: new URL(`${echo.url}/app/`) },
          { kind: 'http', url: new URL(`http://127.0.0.1:${downPort}/down/`) },
          { kind: 'static', statusCode: 202 },
        ],
        upstreamTimeoutSeconds: 1,
        allowedGroups: ['staff'],
        skipAuthRoutes: [{ method: 'GET', pathPattern: /^\/app\/public\// }],
        setXAuthRequest: true,
        cookie: { secret: cookieSecret },
      },
      accounts: (login) => ({ email: `${login}@example.com`, email_verified: true, groups: login === 'ada' ? ['staff'] : ['guests'] }),
    });
    ada = (await h.signIn('ada')).jar;
    // The same deployment before --allowed-group was set: grace signed in then, and her session is still valid.
    sibling = await startProxyHarness({ config: { cookie: { secret: cookieSecret } }, accounts: () => ({ email: 'grace@example.com', email_verified: true, groups: ['guests'] }) });
    graceFromBefore = (await sibling.signIn('grace')).jar;
  });
  after(async () => {
    await sibling.close();
    await h.close();
    await echo.close();
  });

  const lastSeen = () => echo.seen.at(-1)!;

  it('joins a signed-in WebSocket to the application, both ways, with the identity headers', async () => {
    const url = `${h.proxyUrl}/app/chat?room=1`;
    const ws = openWebSocket(url, ada.header(url));
    await ws.opened;
    assert.equal(await ws.exchange('hello'), 'echo: hello');
    assert.equal(await ws.exchange('x'.repeat(1000)), `echo: ${'x'.repeat(1000)}`, 'a message longer than one packet');
    const seen = lastSeen();
    assert.equal(seen.upgrade, true);
    assert.equal(seen.url, '/app/chat?room=1', 'path and query unchanged');
    assert.equal(seen.headers.upgrade, 'websocket');
    assert.equal(seen.headers['x-forwarded-user'], 'ada');
    assert.equal(seen.headers['x-forwarded-email'], 'ada@example.com');
    assert.equal(seen.headers.host, new URL(h.proxyUrl).host, "the browser's Host is passed on");
    assert.ok(seen.headers['sec-websocket-key'], 'the handshake headers reach the application');
    ws.socket.close(1000);
    assert.equal(await ws.closed, 1000, 'the close handshake passes through');
  });

  it("answers the handshake with the application's 101, plus the proxy's own response headers", async () => {
    const url = `${h.proxyUrl}/app/headers`;
    const answer = await handshake(url, { ...WEBSOCKET_REQUEST, cookie: ada.header(url) });
    assert.equal(answer.status, 101);
    assert.equal(answer.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', "RFC 6455's example key, answered by the application");
    assert.equal(answer.headers['x-app'], 'joined');
    assert.equal(answer.headers['x-auth-request-email'], 'ada@example.com', '--set-xauthrequest, as on any proxied answer');
  });

  it('refuses an upgrade without a session with a bare 401, and the application never sees it', async () => {
    const before = echo.seen.length;
    const answer = await handshake(`${h.proxyUrl}/app/chat`, WEBSOCKET_REQUEST);
    assert.equal(answer.status, 401);
    assert.equal(answer.headers['cache-control'], 'no-store');
    assert.match(answer.body, /sign in/);
    const forged = await handshake(`${h.proxyUrl}/app/chat`, { ...WEBSOCKET_REQUEST, cookie: '_oauth2_proxy=forged', 'x-forwarded-user': 'ada' });
    assert.equal(forged.status, 401, 'a forged cookie and identity header are still no session');
    assert.equal(echo.seen.length, before);
  });

  it('refuses a signed-in user outside --allowed-group with 403', async () => {
    const before = echo.seen.length;
    const url = `${h.proxyUrl}/app/chat`;
    const cookie = graceFromBefore.header(`${sibling.proxyUrl}/`);
    assert.match(cookie, /_oauth2_proxy=/, 'grace has a session');
    const answer = await handshake(url, { ...WEBSOCKET_REQUEST, cookie });
    assert.equal(answer.status, 403);
    assert.match(answer.body, /not allowed/);
    assert.equal(echo.seen.length, before);
  });

  it('lets a --skip-auth-route upgrade through without a session, with no identity and forged identity removed', async () => {
    const answer = await handshake(`${h.proxyUrl}/app/public/feed`, { ...WEBSOCKET_REQUEST, 'x-forwarded-user': 'root', 'x-forwarded-groups': 'admins' });
    assert.equal(answer.status, 101);
    assert.equal(lastSeen().headers['x-forwarded-user'], undefined);
    assert.equal(lastSeen().headers['x-forwarded-groups'], undefined);
  });

  it('relays an application that declines the upgrade, then closes the connection', async () => {
    const url = `${h.proxyUrl}/app/refuse/this`;
    const answer = await handshake(url, { ...WEBSOCKET_REQUEST, cookie: ada.header(url) });
    assert.equal(answer.status, 403);
    assert.equal(answer.body, 'not you\n');
    assert.equal(answer.headers['x-app'], 'refused');
    assert.equal(answer.headers.connection, 'close');
  });

  it('answers 502 when the application is down', async () => {
    const url = `${h.proxyUrl}/down/chat`;
    const answer = await handshake(url, { ...WEBSOCKET_REQUEST, cookie: ada.header(url) });
    assert.equal(answer.status, 502);
    assert.match(answer.body, /did not answer/);
  });

  it('never forwards any other upgrade (h2c): the application gets a plain request', async () => {
    const url = `${h.proxyUrl}/app/h2c`;
    const answer = await handshake(url, { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA', cookie: ada.header(url) });
    assert.equal(answer.status, 426, "the echo application's answer to a request without an upgrade");
    const seen = lastSeen();
    assert.equal(seen.upgrade, false);
    assert.equal(seen.headers.upgrade, undefined);
    assert.equal(seen.headers['http2-settings'], undefined, 'named in Connection, so dropped');
  });

  it('treats a WebSocket upgrade with another method as a plain request', async () => {
    const url = `${h.proxyUrl}/app/post`;
    const answer = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(url, { method: 'POST', headers: { ...WEBSOCKET_REQUEST, cookie: ada.header(url), 'content-length': '0' } });
      request.on('upgrade', (_answer, socket) => { socket.destroy(); reject(new Error('a POST was upgraded')); });
      request.on('response', (response) => { response.resume(); resolve(response.statusCode ?? 0); });
      request.on('error', reject);
      request.end();
    });
    assert.equal(answer, 426);
    assert.equal(lastSeen().upgrade, false);
  });

  it("never upgrades the proxy's own endpoints or a static upstream", async () => {
    const auth = await handshake(`${h.proxyUrl}/oauth2/auth`, { ...WEBSOCKET_REQUEST, cookie: ada.header(`${h.proxyUrl}/oauth2/auth`) });
    assert.equal(auth.status, 202, '/oauth2/auth answers as it always does');
    const ping = await handshake(`${h.proxyUrl}/ping`, WEBSOCKET_REQUEST);
    assert.equal(ping.status, 200);
    const url = `${h.proxyUrl}/elsewhere`;
    const staticAnswer = await handshake(url, { ...WEBSOCKET_REQUEST, cookie: ada.header(url) });
    assert.equal(staticAnswer.status, 202);
    assert.equal(staticAnswer.body, 'Authenticated');
  });

  it('closes open WebSockets when the proxy stops', async () => {
    await waitUntil(() => echo.openCount === 0, 'the earlier handshakes are closed on both sides');
    const url = `${h.proxyUrl}/app/long`;
    const ws = openWebSocket(url, ada.header(url));
    await ws.opened;
    assert.equal(await ws.exchange('still here'), 'echo: still here');
    await h.proxy.close();
    assert.equal(await ws.closed, 1006, 'the connection ends without a close frame');
    await waitUntil(() => echo.openCount === 0, "the application's side is closed too");
  });
});

/**
 * An echo application at /app/ behind a proxy harness with `config`, started before a suite's
 * tests and stopped after them; read its parts through the returned getters once started.
 */
function echoBehindProxy(config: NonNullable<Parameters<typeof startProxyHarness>[0]>['config']) {
  let h: ProxyHarness;
  let echo: Awaited<ReturnType<typeof startWebSocketEcho>>;
  before(async () => {
    echo = await startWebSocketEcho();
    h = await startProxyHarness({ config: { upstreams: [{ kind: 'http', url: new URL(`${echo.url}/app/`) }], ...config } });
  });
  after(async () => {
    await h.close();
    await echo.close();
  });
  return { get h() { return h; }, get echo() { return echo; } };
}

describe('proxy with --proxy-websockets=false', () => {
  const stack = echoBehindProxy({ proxyWebsockets: false });

  it('sends the upstream a plain request, without the upgrade', async () => {
    const { h, echo } = stack;
    const { jar } = await h.signIn('ada');
    const url = `${h.proxyUrl}/app/chat`;
    const answer = await handshake(url, { ...WEBSOCKET_REQUEST, cookie: jar.header(url) });
    assert.equal(answer.status, 426);
    const seen = echo.seen.at(-1)!;
    assert.equal(seen.upgrade, false);
    assert.equal(seen.headers.upgrade, undefined);
    assert.equal(seen.headers['x-forwarded-user'], 'ada');
  });
});

describe('proxy WebSocket upgrades with --metrics-address (fastify makes the server itself)', () => {
  const stack = echoBehindProxy({ metricsAddress: { host: '127.0.0.1', port: 0 } });

  it('joins a signed-in WebSocket all the same', async () => {
    const { h } = stack;
    const { jar } = await h.signIn('ada');
    const url = `${h.proxyUrl}/app/chat`;
    const ws = openWebSocket(url, jar.header(url));
    await ws.opened;
    assert.equal(await ws.exchange('metrics on'), 'echo: metrics on');
    ws.socket.close(1000);
    assert.equal(await ws.closed, 1000);
  });
});
