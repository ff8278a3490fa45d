// HTTP/1.1 on a connection node:http has handed over: an upgrade request arrives at the server's
// 'upgrade' event with the bare socket, so every answer to it (refused, relayed, 101) is written
// here by hand, and an accepted upgrade joins the browser's socket to the upstream's.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES, validateHeaderName, validateHeaderValue } from '../core/node-http.ts';

/**
 * RFC 6455 §4.1: a WebSocket opening handshake asks for `Upgrade: websocket` with `Upgrade` among
 * the Connection options. Nothing else is ever forwarded as an upgrade: an `Upgrade: h2c` passed
 * on would let a client talk HTTP/2 to the upstream behind the proxy's back (h2c smuggling), past
 * the check each request here gets.
 */
export function isWebSocketUpgrade(method: string | undefined, headers: IncomingHttpHeaders): boolean {
  if (method !== 'GET' || headers.upgrade?.trim().toLowerCase() !== 'websocket') return false;
  return (headers.connection ?? '').split(',').some((token) => token.trim().toLowerCase() === 'upgrade');
}

/**
 * Writes a status line and headers. Names and values are checked as node:http checks its own
 * (no line breaks can reach the wire), so a bad value throws before anything is written.
 */
export function writeHead(socket: Duplex, status: number, headers: OutgoingHttpHeaders): void {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    validateHeaderName(name);
    for (const line of Array.isArray(value) ? value : [String(value)]) {
      validateHeaderValue(name, line);
      head += `${name}: ${line}\r\n`;
    }
  }
  socket.write(`${head}\r\n`);
}

/** A short plain-text answer that ends the connection: the browser's WebSocket only sees the status. */
export function answerAndClose(socket: Duplex, status: number, message: string, headers: OutgoingHttpHeaders = {}): void {
  if (socket.destroyed) return;
  const body = Buffer.from(`${message}\n`);
  writeHead(socket, status, {
    ...headers,
    'cache-control': 'no-store',
    'content-type': 'text/plain; charset=utf-8',
    'content-length': body.length,
    connection: 'close',
  });
  socket.end(body);
}

/** Bytes flow both ways until either side ends or fails; then both are closed. */
export function joinSockets(browser: Duplex, upstream: Duplex): void {
  const closeBoth = () => {
    browser.destroy();
    upstream.destroy();
  };
  for (const socket of [browser, upstream]) {
    socket.on('error', closeBoth);
    socket.on('close', closeBoth);
  }
  browser.pipe(upstream);
  upstream.pipe(browser);
}
