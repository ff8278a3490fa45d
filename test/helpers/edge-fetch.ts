// curl for the guide's validation checklist: an HTTPS request to https://host/path (no port, as in
// production) that really connects to 127.0.0.1:PORT, checks the certificate against the test CA
// and sends SNI and Host for the name in the URL. Redirects are not followed.
import { request } from 'node:https';

export interface EdgeAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function edgeFetch(url: string, edge: { port: number; caPem: string }, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<EdgeAnswer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port: edge.port, path: target.pathname + target.search, method,
      servername: target.hostname, ca: edge.caPem, agent: false,
      headers: { host: target.host, ...headers },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
