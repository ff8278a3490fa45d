// The doctor's HTTP client: one request, no redirects followed, the certificate kept for the TLS
// checks. node:http rather than fetch, so that --resolve (curl's HOST:PORT:ADDRESS: check a
// deployment before DNS points at it) and --ca-file (a private CA) work per request.
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from '../core/node-http.ts';
import { loadHttps } from '../core/node-https.ts';
import { isIP, type LookupFunction } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface ProbeAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** For https: whether the chain verified for the host name, and the leaf certificate. */
  tls: { authorized: boolean; error: string | null; certificate: PeerCertificate | null } | null;
}

export interface ProbeOptions {
  /** host:port → address, like curl --resolve. */
  resolve: ReadonlyMap<string, string>;
  /** Extra trusted CA certificates (PEM). */
  ca: string | null;
  timeoutMs: number;
}

export interface ProbeInit {
  headers?: Record<string, string>;
  /** Connect to this address instead of looking the host up (a --resolve entry chosen by the caller). */
  address?: string;
}

export type Probe = (url: string, init?: ProbeInit) => Promise<ProbeAnswer>;

const MAX_BODY_BYTES = 512 * 1024;

export function createProbe(options: ProbeOptions): Probe {
  const cache = new Map<string, Promise<ProbeAnswer>>();
  const probe = (url: string, init: ProbeInit = {}) => {
    const key = `${url} ${JSON.stringify(init.headers ?? {})} ${init.address ?? ''}`;
    let answer = cache.get(key);
    if (!answer) cache.set(key, (answer = requestOnce(new URL(url), init, options)));
    return answer;
  };
  return probe;
}

function requestOnce(url: URL, init: ProbeInit, options: ProbeOptions): Promise<ProbeAnswer> {
  const secure = url.protocol === 'https:';
  const port = url.port || (secure ? '443' : '80');
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const headers = init.headers ?? {};
  const mapped = init.address ?? options.resolve.get(`${hostname}:${port}`);
  const lookup: LookupFunction | undefined = mapped
    ? (_host, opts, callback) => {
      const family = isIP(mapped);
      if ((opts as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: mapped, family }]);
      else callback(null, mapped, family);
    }
    : undefined;
  return new Promise((resolve, reject) => {
    const common = {
      method: 'GET', host: hostname, port, path: `${url.pathname}${url.search}`, lookup, agent: false as const,
      headers: { 'User-Agent': 'latchkey-doctor', Accept: '*/*', ...headers },
      timeout: options.timeoutMs,
    };
    const req = secure
      ? loadHttps().request({ ...common, servername: isIP(hostname) ? undefined : hostname, rejectUnauthorized: false, ...(options.ca ? { ca: options.ca } : {}) })
      : httpRequest(common);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs / 1000} s`)));
    req.on('error', (error) => reject(new Error(describeError(url, error))));
    req.on('response', (res) => {
      let tls: ProbeAnswer['tls'] = null;
      if (secure) {
        const socket = res.socket as TLSSocket;
        const certificate = socket.getPeerCertificate?.() ?? null;
        const error = socket.authorized ? null : String(socket.authorizationError ?? 'not verified');
        tls = { authorized: socket.authorized, error, certificate: certificate && Object.keys(certificate).length ? certificate : null };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), tls }));
      res.on('error', reject);
    });
    req.end();
  });
}

function describeError(url: URL, error: NodeJS.ErrnoException): string {
  const code = error.code ? ` (${error.code})` : '';
  if (error.code === 'ECONNREFUSED') return `nothing listens at ${url.host}${code}`;
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') return `${url.hostname} does not resolve${code}`;
  return `${error.message}${code}`;
}
