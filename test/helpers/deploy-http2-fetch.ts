// An HTTP/2 request to the edge as a browser makes it: TLS with ALPN "h2", SNI and :authority for
// the host in the URL, the certificate checked against the test CA, the connection made to
// 127.0.0.1:PORT. Cookies go as separate "cookie" fields ("crumbs", RFC 9113 8.2.3), as browsers
// send them over HTTP/2. Redirects are not followed.
import { connect, constants } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import type { EdgeAnswer } from './edge-fetch.ts';

export interface Http2Answer extends EdgeAnswer {
  /** The protocol the server chose: "h2" proves the request really went over HTTP/2. */
  alpn: string | false;
}

export function edgeFetchHttp2(url: string, edge: { port: number; caPem: string }, headers: Record<string, string> = {}, method = 'GET'): Promise<Http2Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    let alpn: string | false = false;
    const session = connect(target.origin, {
      createConnection: () => {
        const socket = tlsConnect({ host: '127.0.0.1', port: edge.port, servername: target.hostname, ca: edge.caPem, ALPNProtocols: ['h2'] });
        socket.once('secureConnect', () => (alpn = socket.alpnProtocol ?? false));
        return socket;
      },
    });
    session.on('error', reject);
    const { cookie, ...rest } = headers;
    const request = session.request({
      [constants.HTTP2_HEADER_METHOD]: method,
      [constants.HTTP2_HEADER_PATH]: target.pathname + target.search,
      ...rest,
      ...(cookie === undefined ? {} : { cookie: cookie.split(/;\s*/) }),
    });
    let status = 0;
    let answerHeaders: EdgeAnswer['headers'] = {};
    let body = '';
    request.on('response', (h) => {
      status = Number(h[constants.HTTP2_HEADER_STATUS]);
      answerHeaders = Object.fromEntries(Object.entries(h).filter(([name]) => !name.startsWith(':')));
    });
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      session.close();
      resolve({ status, headers: answerHeaders, body, alpn });
    });
    request.on('error', (error) => {
      session.destroy();
      reject(error);
    });
    request.end();
  });
}
