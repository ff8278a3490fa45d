// One HTTP request with its target exactly as written (no URL normalisation, any form: `//x`,
// `/%2e%2e/`, absolute-form), as an attacker's client sends it, with the Host of `origin`.
import { request as httpRequest } from 'node:http';

export interface RawAnswer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

export function rawRequest(origin: string, target: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  const { host, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: target, method: options.method ?? 'GET', headers: { host, ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
