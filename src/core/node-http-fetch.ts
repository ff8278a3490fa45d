// fetch() for the few server-to-server requests latchkey makes (OIDC discovery, tokens, userinfo,
// JWKS, back-channel logout), on node:http and node:https. Node's global fetch is undici, which
// compiles its HTTP parser to WebAssembly on the first request: ~1.3 MB more RSS than this for one
// request, and ~15 MB once V8 optimises that WebAssembly after a few dozen sign-ins
// (docs/benchmarks.md, "Memory"). The answer is a Response as openid-client, jose and oidc-provider
// expect it, made without loading undici at all (src/core/fetch-classes.ts).
//
// What those callers use, and nothing more: a string or URL (not a Request), a method, headers
// (a Headers, a record or pairs), a string, URLSearchParams or bytes body, an AbortSignal.
// Redirects are never followed (they all ask for redirect: 'manual'). No compression is asked
// for. NODE_EXTRA_CA_CERTS is honoured, as with the global fetch.
import type { IncomingMessage } from 'node:http';
import { FetchHeaders, FetchResponse } from './fetch-classes.ts';
import { request as httpRequest } from './node-http.ts';
import { loadHttps } from './node-https.ts';

/** A provider's answer is small (discovery, keys, tokens); anything bigger is refused rather than buffered. */
const MAX_BODY_BYTES = 1024 * 1024;

type Body = string | URLSearchParams | ArrayBuffer | ArrayBufferView;

function headerRecord(init: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!init) return out;
  const entries = Array.isArray(init) ? init : typeof (init as Headers).forEach === 'function' ? [...(init as Headers).entries()] : Object.entries(init);
  for (const [name, value] of entries) {
    const key = name.toLowerCase();
    out[key] = key in out ? `${out[key]}, ${value}` : String(value);
  }
  return out;
}

function bodyBytes(body: unknown, headers: Record<string, string>): Buffer | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') {
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
    return Buffer.from(body);
  }
  if (body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    return Buffer.from(body.toString());
  }
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('nodeHttpFetch: unsupported body type');
}

function toResponse(res: IncomingMessage, bytes: Buffer<ArrayBuffer>, method: string): Response {
  const headers = new FetchHeaders();
  for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
  const status = res.statusCode ?? 0;
  // Fetch §4.2: these statuses, and HEAD, have a null body.
  const nullBody = method === 'HEAD' || status === 101 || status === 204 || status === 205 || status === 304;
  // Typed as the standard's Response, whose part that callers use it implements (src/core/fetch-classes.ts).
  return new FetchResponse(nullBody ? null : bytes, { status, statusText: res.statusMessage ?? '', headers }) as unknown as Response;
}

export function nodeHttpFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const url = new URL(input);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`nodeHttpFetch: ${url.protocol} URLs are not supported`);
    if (init.redirect !== undefined && init.redirect !== 'manual') throw new TypeError('nodeHttpFetch: redirects are never followed; ask for redirect: "manual"');
    const signal = init.signal ?? undefined;
    if (signal?.aborted) throw signal.reason;
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = headerRecord(init.headers);
    const body = bodyBytes(init.body as Body | null | undefined, headers);
    if (body) headers['content-length'] = String(body.length);

    const request = (url.protocol === 'https:' ? loadHttps().request : httpRequest)(url, { method, headers });
    const onAbort = () => request.destroy(signal?.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    const fail = (error: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      // What the global fetch rejects with; an abort keeps its own reason (TimeoutError, AbortError).
      reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
    };
    request.on('error', fail);
    request.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) res.destroy(new Error(`response body over ${MAX_BODY_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        try {
          resolve(toResponse(res, Buffer.concat(chunks), method));
        } catch (error) {
          reject(error);
        }
      });
    });
    request.end(body ?? undefined);
  });
}
