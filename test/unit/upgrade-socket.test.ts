import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import { answerAndClose, isWebSocketUpgrade, writeHead } from '../../src/proxy/upgrade-socket.ts';

/** A socket stand-in that records what is written. */
function recordingSocket() {
  const socket = new PassThrough();
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { socket, written: () => Buffer.concat(chunks).toString('latin1') };
}

describe('isWebSocketUpgrade', () => {
  const ws = { upgrade: 'websocket', connection: 'Upgrade' };

  it('takes a GET asking for websocket, in any case, with Upgrade among the Connection options', () => {
    assert.equal(isWebSocketUpgrade('GET', ws), true);
    assert.equal(isWebSocketUpgrade('GET', { upgrade: 'WebSocket', connection: 'keep-alive, UPGRADE' }), true);
  });

  it('refuses anything else: another protocol, another method, Upgrade not named in Connection', () => {
    assert.equal(isWebSocketUpgrade('GET', { upgrade: 'h2c', connection: 'Upgrade, HTTP2-Settings' }), false);
    assert.equal(isWebSocketUpgrade('GET', { upgrade: 'websocket, h2c', connection: 'Upgrade' }), false);
    assert.equal(isWebSocketUpgrade('POST', ws), false);
    assert.equal(isWebSocketUpgrade('GET', { upgrade: 'websocket' }), false);
    assert.equal(isWebSocketUpgrade('GET', { upgrade: 'websocket', connection: 'upgrades' }), false);
    assert.equal(isWebSocketUpgrade('GET', { connection: 'Upgrade' }), false);
  });
});

describe('writeHead', () => {
  it('writes a status line and one line per header value', () => {
    const { socket, written } = recordingSocket();
    writeHead(socket, 101, { upgrade: 'websocket', 'set-cookie': ['a=1', 'b=2'], 'content-length': 0 });
    assert.equal(written(), 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nset-cookie: a=1\r\nset-cookie: b=2\r\ncontent-length: 0\r\n\r\n');
  });

  it('throws on a line break in a value or a bad name, before writing anything', () => {
    const { socket, written } = recordingSocket();
    assert.throws(() => writeHead(socket, 200, { 'x-ok': 'fine', 'x-bad': 'a\r\nset-cookie: evil=1' }), { code: 'ERR_INVALID_CHAR' });
    assert.throws(() => writeHead(socket, 200, { 'bad name': 'x' }), { code: 'ERR_INVALID_HTTP_TOKEN' });
    assert.equal(written(), '');
  });
});

describe('answerAndClose', () => {
  it('sends a short plain-text answer that is never cached and ends the connection', async () => {
    const { socket, written } = recordingSocket();
    const ended = new Promise((resolve) => socket.on('finish', resolve));
    answerAndClose(socket, 401, 'Please sign in first.', { 'set-cookie': '_oauth2_proxy=; Max-Age=0' });
    await ended;
    const text = written();
    assert.match(text, /^HTTP\/1\.1 401 Unauthorized\r\n/);
    assert.match(text, /\r\ncache-control: no-store\r\n/);
    assert.match(text, /\r\nconnection: close\r\n/);
    assert.match(text, /\r\nset-cookie: _oauth2_proxy=; Max-Age=0\r\n/);
    assert.match(text, /\r\ncontent-length: 22\r\n/);
    assert.ok(text.endsWith('\r\n\r\nPlease sign in first.\n'), text);
  });
});
