// --upstream=http(s)://host[:port][/path]: a streaming reverse proxy over node:http / node:https.
// Bodies are piped both ways, never buffered. As in oauth2-proxy (pkg/upstream/http.go) the URL's
// path only chooses which requests come here (upstream-router.ts); the request target is sent
// unchanged, and the browser's Host is passed on (oauth2-proxy's --pass-host-header default).
// A failure before the upstream answers is a 502 page; no answer within --upstream-timeout is one too
// (oauth2-proxy's ResponseHeaderTimeout, also a 502 there).
// WebSocket upgrades (--proxy-websockets) get the same headers and the same timeout for the
// upstream's answer; after its 101 the two connections are joined with no timeout of their own.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Agent as HttpAgent, request as httpRequest } from '../core/node-http.ts';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../core/errors.ts';
import { loadHttps } from '../core/node-https.ts';
import { connectionFields } from './upstream-request-headers.ts';
import { answerAndClose, joinSockets, writeHead } from './upgrade-socket.ts';

const BAD_GATEWAY_MESSAGE = 'The application behind this sign-in did not answer. Please try again in a moment.';

export interface UpstreamExchange {
  /** What the upstream receives (upstream-request-headers.ts). */
  headers: OutgoingHttpHeaders;
  /** Session cookies to add to the upstream's own Set-Cookie lines. */
  setCookies: string[];
  /** Headers the proxy itself answers with (--set-xauthrequest, …); they replace the upstream's. */
  responseHeaders: Record<string, string>;
  beforeResponse: () => void;
}

/** An upgrade's exchange: no framework to take the response over from. */
export type UpgradeExchange = Omit<UpstreamExchange, 'beforeResponse'>;

export interface HttpUpstream {
  /**
   * Sends `req` upstream with `headers`. `beforeResponse` runs once, just before the upstream's
   * answer is written to `res` (the caller takes the response over from its framework there).
   * Rejects with a 502 AppError only while nothing has been written; later failures end `res`.
   */
  forward(req: IncomingMessage, res: ServerResponse, input: UpstreamExchange): Promise<void>;
  /**
   * Asks the upstream for the WebSocket upgrade `req` asked for (upgrade-socket.ts says which).
   * On its 101 the browser gets that answer and the two sockets are joined; any other answer is
   * relayed and the connection closed; no answer is a 502.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, input: UpgradeExchange): void;
  close(): void;
}

export function createHttpUpstream(url: URL, options: { timeoutMs: number }): HttpUpstream {
  const secure = url.protocol === 'https:';
  const agent = secure ? new (loadHttps().Agent)({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = secure ? loadHttps().request : httpRequest;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : secure ? 443 : 80;

  return {
    forward(req, res, input) {
      return new Promise<void>((resolve, reject) => {
        // The browser already got its "100 Continue" from this server.
        const { expect: _expect, ...headers } = input.headers;
        const upstream = send({ agent, hostname, port, method: req.method, path: req.url, headers, servername: secure ? hostname : undefined });
        let answered = false;
        const fail = (cause: Error) => reject(new AppError('bad_gateway', 502, BAD_GATEWAY_MESSAGE, { cause }));

        // Counted again once the request body has been sent, so a slow upload is not a slow upstream.
        let timer = setTimeout(() => upstream.destroy(new Error('upstream timeout')), options.timeoutMs);
        upstream.on('finish', () => {
          clearTimeout(timer);
          if (!answered) timer = setTimeout(() => upstream.destroy(new Error('upstream timeout')), options.timeoutMs);
        });

        upstream.on('response', (answer) => {
          answered = true;
          clearTimeout(timer);
          input.beforeResponse();
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeaders(answer, input));
          pipeline(answer, res).then(resolve, () => {
            // the upstream broke off, or the browser left: end both sides
            upstream.destroy();
            res.destroy();
            resolve();
          });
        });
        upstream.on('error', (error) => {
          clearTimeout(timer);
          if (answered) return;
          // the browser left first (which is what ended the upstream request): nobody to tell
          if (res.destroyed) resolve();
          else fail(error);
        });
        // A browser that leaves (or an upload that breaks) ends the upstream request too.
        res.on('close', () => {
          if (!res.writableFinished) upstream.destroy();
        });
        req.on('error', () => upstream.destroy());
        // pipe, not pipeline: an upstream failure must not destroy the browser's request, which
        // still needs its 502 page
        req.pipe(upstream);
      });
    },
    upgrade(req, socket, head, input) {
      // A connection of its own (no agent): once upgraded it belongs to this one WebSocket.
      const headers = { ...input.headers, connection: 'Upgrade', upgrade: 'websocket' };
      const upstream = send({ agent: false, hostname, port, method: 'GET', path: req.url, headers, servername: secure ? hostname : undefined });
      let answered = false;
      let upgraded = false;
      const timer = setTimeout(() => upstream.destroy(new Error('upstream timeout')), options.timeoutMs);
      // A browser that leaves before the tunnel is up ends the attempt (joinSockets takes over after).
      socket.once('close', () => {
        if (!upgraded) upstream.destroy();
      });

      upstream.on('upgrade', (answer, upstreamSocket, upstreamHead) => {
        answered = true;
        upgraded = true;
        clearTimeout(timer);
        if (socket.destroyed) return upstreamSocket.destroy();
        // a 101 must say what it switches to: Connection and Upgrade go back to the browser
        if (!relayHead(socket, 101, { ...responseHeaders(answer, input), connection: 'Upgrade', upgrade: 'websocket' })) return upstreamSocket.destroy();
        if (upstreamHead.length > 0) socket.write(upstreamHead);
        if (head.length > 0) upstreamSocket.write(head);
        joinSockets(socket, upstreamSocket);
      });
      // The upstream declined (a 400, a 403, a page): the browser gets that answer, then the
      // connection ends. A chunked body arrives decoded and goes on unframed, ended by the close.
      upstream.on('response', (answer) => {
        answered = true;
        clearTimeout(timer);
        if (!relayHead(socket, answer.statusCode ?? 502, { ...responseHeaders(answer, input), connection: 'close' })) return upstream.destroy();
        answer.on('error', () => socket.destroy());
        answer.pipe(socket);
      });
      upstream.on('error', () => {
        clearTimeout(timer);
        if (answered) socket.destroy();
        else answerAndClose(socket, 502, BAD_GATEWAY_MESSAGE);
      });
      upstream.end();
    },
    close() {
      agent.destroy();
    },
  };
}

/**
 * The upstream's status and headers on the browser's socket. A header node:http would refuse to
 * send ends the connection (false) instead of throwing from an event handler, which would stop the proxy.
 */
function relayHead(socket: Duplex, status: number, headers: OutgoingHttpHeaders): boolean {
  try {
    writeHead(socket, status, headers);
    return true;
  } catch {
    socket.destroy();
    return false;
  }
}

function responseHeaders(answer: IncomingMessage, exchange: UpgradeExchange): OutgoingHttpHeaders {
  const dropped = connectionFields(answer.headers);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value !== undefined && !dropped.has(name)) headers[name] = value;
  }
  Object.assign(headers, exchange.responseHeaders);
  // a refreshed (or ended) session travels with the upstream's own cookies
  if (exchange.setCookies.length > 0) headers['set-cookie'] = [...(answer.headers['set-cookie'] ?? []), ...exchange.setCookies];
  return headers;
}
