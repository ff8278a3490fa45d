// A WebSocket server in a few lines of RFC 6455: it answers the opening handshake and echoes each
// text or binary message back as "echo: …", so the proxy's upgrade path meets a real handshake and
// a real client (Node's own WebSocket, or Chromium). /app/refuse/… declines the upgrade with a 403;
// GET /app/public/page is a page whose script opens a WebSocket to /app/chat and shows what comes
// back (or how it closed) in #out; any other request without an upgrade gets 426. Every request
// it sees is recorded.
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODE = { text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

const CHAT_PAGE = `<!doctype html><title>chat</title><p id="out">waiting</p><script>
const out = document.getElementById('out');
const socket = new WebSocket(location.origin.replace(/^http/, 'ws') + '/app/chat');
socket.onopen = () => socket.send('hello from the browser');
socket.onmessage = (event) => { out.textContent = event.data; };
socket.onclose = (event) => { if (out.textContent === 'waiting') out.textContent = 'closed ' + event.code; };
</script>`;

export interface SeenRequest { url: string; upgrade: boolean; headers: IncomingHttpHeaders }

function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x80 | opcode, length]) : Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff]);
  return Buffer.concat([header, payload]);
}

/** Answers every complete (masked, client-to-server) frame in `buffered`; returns what is left over. */
function answerFrames(socket: Duplex, buffered: Buffer): Buffer {
  while (buffered.length >= 2) {
    const opcode = buffered[0] & 0x0f;
    let length = buffered[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffered.length < 4) break;
      length = buffered.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      throw new Error('the echo server takes messages under 64 KiB only');
    }
    if (buffered.length < offset + 4 + length) break;
    const mask = buffered.subarray(offset, offset + 4);
    const payload = Buffer.from(buffered.subarray(offset + 4, offset + 4 + length).map((byte, i) => byte ^ mask[i % 4]));
    buffered = buffered.subarray(offset + 4 + length);
    if (opcode === OPCODE.text || opcode === OPCODE.binary) socket.write(frame(opcode, Buffer.concat([Buffer.from('echo: '), payload])));
    else if (opcode === OPCODE.ping) socket.write(frame(OPCODE.pong, payload));
    else if (opcode === OPCODE.close) socket.end(frame(OPCODE.close, payload.subarray(0, 2)));
  }
  return buffered;
}

/** With `tls` (a certificate for localhost), the same over HTTPS, at https://localhost:PORT. */
export async function startWebSocketEcho(options: { tls?: { key: string; cert: string } } = {}) {
  const seen: SeenRequest[] = [];
  const open = new Set<Duplex>();
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ url: req.url ?? '', upgrade: false, headers: req.headers });
    if (req.url === '/app/public/page') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(CHAT_PAGE);
    res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only\n');
  };
  const server = options.tls ? createTlsServer(options.tls, answer) : createServer(answer);
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    seen.push({ url: req.url ?? '', upgrade: true, headers: req.headers });
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
    // node:http's sockets stay half-open when the peer ends; this server has nothing more to say
    socket.on('end', () => socket.end());
    if (req.url?.startsWith('/app/refuse/')) {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 8\r\nx-app: refused\r\n\r\nnot you\n');
      return;
    }
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${HANDSHAKE_GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nx-app: joined\r\n\r\n`);
    let buffered = head;
    socket.on('data', (chunk: Buffer) => {
      buffered = answerFrames(socket, Buffer.concat([buffered, chunk]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: options.tls ? `https://localhost:${(server.address() as AddressInfo).port}` : `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    /** WebSocket connections open right now. */
    get openCount() { return open.size; },
    close: () => new Promise<void>((resolve) => {
      for (const socket of open) socket.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
