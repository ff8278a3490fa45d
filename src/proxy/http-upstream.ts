// --upstream=http(s)://host[:port][/path]: a streaming reverse proxy over node:http / node:https.
// Bodies are piped both ways, never buffered. As in oauth2-proxy (pkg/upstream/http.go) the URL's
// path only chooses which requests come here (upstream-router.ts); the request target is sent
// unchanged, and the browser's Host is passed on (oauth2-proxy's --pass-host-header default).
// A failure before the upstream answers is a 502 page; no answer within --upstream-timeout is one too
// (oauth2-proxy's ResponseHeaderTimeout, also a 502 there).
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Agent as HttpAgent, request as httpRequest } from '../core/node-http.ts';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../core/errors.ts';
import { loadHttps } from '../core/node-https.ts';
import { connectionFields } from './upstream-request-headers.ts';

export interface UpstreamExchange {
  /** What the upstream receives (upstream-request-headers.ts). */
  headers: OutgoingHttpHeaders;
  /** Session cookies to add to the upstream's own Set-Cookie lines. */
  setCookies: string[];
  /** Headers the proxy itself answers with (--set-xauthrequest, …); they replace the upstream's. */
  responseHeaders: Record<string, string>;
  beforeResponse: () => void;
}

export interface HttpUpstream {
  /**
   * Sends `req` upstream with `headers`. `beforeResponse` runs once, just before the upstream's
   * answer is written to `res` (the caller takes the response over from its framework there).
   * Rejects with a 502 AppError only while nothing has been written; later failures end `res`.
   */
  forward(req: IncomingMessage, res: ServerResponse, input: UpstreamExchange): Promise<void>;
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
        const fail = (cause: Error) => reject(new AppError('bad_gateway', 502, 'The application behind this sign-in did not answer. Please try again in a moment.', { cause }));

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
    close() {
      agent.destroy();
    },
  };
}

function responseHeaders(answer: IncomingMessage, exchange: UpstreamExchange): OutgoingHttpHeaders {
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
