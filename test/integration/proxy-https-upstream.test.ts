// `latchkey proxy --upstream=https://…` as its own process, trusting a private certificate the way
// docs/configuration-proxy.md says (NODE_EXTRA_CA_CERTS): requests and WebSocket upgrades go to
// the application over TLS with its name checked, and an application whose certificate is not
// trusted gets nothing but a 502.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, makeCertificate } from '../helpers/deploy-tools.ts';
import { proxyFlags, sessionCookie, spawnProxy, startDiscoveryStub, type SpawnedProxy } from '../helpers/socket-proxy.ts';
import { startWebSocketEcho } from '../helpers/websocket-echo.ts';

const WEBSOCKET_REQUEST = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };

/** The status a WebSocket handshake gets (101 or anything else). */
function handshakeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers });
    request.on('upgrade', (answer, socket) => { socket.destroy(); resolve(answer.statusCode ?? 0); });
    request.on('response', (answer) => { answer.resume(); resolve(answer.statusCode ?? 0); });
    request.on('error', reject);
    request.end();
  });
}

describe('latchkey proxy in front of an https upstream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-https-upstream-'));
  let echo: Awaited<ReturnType<typeof startWebSocketEcho>>;
  let provider: Awaited<ReturnType<typeof startDiscoveryStub>>;
  let trusting: { proxy: SpawnedProxy; url: string };
  let distrusting: { proxy: SpawnedProxy; url: string };
  const cookie = sessionCookie({ sub: 'alice', email: 'alice@example.com' });

  const start = async (env: Record<string, string>) => {
    const port = await freePort();
    const proxy = spawnProxy(proxyFlags(`127.0.0.1:${port}`, [`--upstream=${echo.url}/app/`], provider.issuer), [], env);
    await proxy.listeningOn;
    return { proxy, url: `http://127.0.0.1:${port}` };
  };

  before(async () => {
    const tls = makeCertificate(dir, ['localhost']);
    echo = await startWebSocketEcho({ tls: { key: readFileSync(tls.key, 'utf8'), cert: readFileSync(tls.certificate, 'utf8') } });
    provider = await startDiscoveryStub();
    [trusting, distrusting] = await Promise.all([start({ NODE_EXTRA_CA_CERTS: tls.certificate }), start({})]);
  });
  after(async () => {
    await Promise.all([trusting?.proxy.stop(), distrusting?.proxy.stop()]);
    await provider?.close();
    await echo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards a signed-in request over TLS', async () => {
    const response = await fetch(`${trusting.url}/app/public/page`, { headers: { cookie } });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /new WebSocket/);
    assert.equal(echo.seen.at(-1)!.headers['x-forwarded-user'], 'alice');
  });

  it('joins a WebSocket to the application over TLS', async () => {
    const socket = new WebSocket(`${trusting.url.replace('http', 'ws')}/app/chat`, { headers: { cookie } } as unknown as string[]);
    const echoed = await new Promise<string>((resolve, reject) => {
      socket.onopen = () => socket.send('over tls');
      socket.onmessage = (event) => resolve(String(event.data));
      socket.onerror = () => reject(new Error('the WebSocket failed'));
    });
    socket.close();
    assert.equal(echoed, 'echo: over tls');
  });

  it('answers 502, for a request and for a WebSocket, when the certificate is not trusted', async () => {
    const before = echo.seen.length;
    const response = await fetch(`${distrusting.url}/app/public/page`, { headers: { cookie, accept: 'text/html' } });
    assert.equal(response.status, 502);
    assert.match(await response.text(), /did not answer/);
    assert.equal(await handshakeStatus(`${distrusting.url}/app/chat`, { ...WEBSOCKET_REQUEST, cookie }), 502);
    assert.equal(echo.seen.length, before, 'nothing reached the application');
  });
});
