// The static edge: serves a built site folder (Hugo's public/) as nginx would for this job, with
// protected prefixes, over plain node:http request/response objects so the hot path stays
// framework-free (see the speed target in docs and bench/).
//
// API
//   const site = createStaticSite({ root, protectedPrefixes: [{ prefix: '/private/', allowedGroups: [] }] });
//   http.createServer((req, res) => {
//     const resolution = site.resolve(req.url ?? '/');        // sync: normalise + classify, no disk
//     if (resolution.kind === 'path' && resolution.protection && !signedInWithGroups(req, resolution.protection))
//       return sendToSignIn(req, res);                       // the caller's auth, never the edge's
//     void site.serve(req, res, resolution);                 // never rejects
//   });
//   site.close();                                            // drops the cache; nothing else runs
//
// - resolve(requestTarget) takes `req.url` (origin-form, query included: serve rewrites an
//   absolute-form target, RFC 9112 §3.2.2, before anything looks at it, app/site-handler.ts
//   acceptingAbsoluteForm) and returns
//   `{ kind: 'invalid', reason }` (answered 400 by serve) or
//   `{ kind: 'path', pathname, query, protection }`, where `pathname` is the one normalised path
//   (request-path.ts) that is both served and matched, and `protection` is the longest matching
//   ProtectedPrefix or null. Protection must be enforced by the caller before serve().
// - serve(req, res, resolution) answers: 405 (Allow: GET, HEAD) for other methods; 400 for an
//   invalid path; 301 `/dir` → `/dir/` (query kept); the file with 200/206/304/412/416; otherwise
//   404 with the site's own 404 page (notFoundPage, default /404.html) or a built-in one.
//   Everything under a protected prefix, including its redirects and 404s, is
//   `Cache-Control: private, no-store`. A file whose real path (behind symlinks) falls under a
//   different protected prefix than the request is 404, so a public symlink cannot expose it; a
//   `.br`/`.gz` sibling whose real path is protected differently from the file's is ignored.
// - matchProtection(pathname) normalises like resolve() and returns the ProtectedPrefix or null
//   (throws on a path resolve() would refuse).
//
// Caching (file-cache.ts): metadata, validators and files up to maxCachedFileBytes (256 KiB)
// are kept in memory and re-checked at most once per revalidateAfterMs (1 s) per path, so a
// rebuilt site is served fresh within about a second; a cached hit is answered synchronously.
// A file counts as unchanged while its inode, size, mtime and ctime match (ctime catches a
// same-size rewrite given its old mtime back by `cp -p` or `touch -r`). Larger files are streamed,
// after checking the open file still matches the look-up; a visitor who left before the stream
// starts leaves no file open, and one who leaves during it is no error (onError is not called).
// Files are opened non-blocking and must be regular files, so a FIFO in the site is 404.
// The 404 page is sent only if it is public and small enough to be held in memory.
//
// Representation choice: `.br` then `.gz` siblings when Accept-Encoding allows (q=0 respected),
// with `Vary: Accept-Encoding` on every response for a file that has siblings; each representation
// has its own ETag (a sibling's ends in `-br`/`-gzip`, conditional.ts). A request with a
// Range header always gets the uncompressed file, so byte positions mean the same thing to every
// client (resumed downloads, media seeking); Accept-Ranges is sent only with uncompressed bodies.
import { realpathSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { nowSeconds, systemClock } from '../core/clock.ts';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { chooseEncoding } from './accept-encoding.ts';
import type { PrecompressedEncoding } from './accept-encoding.ts';
import { ifRangeAllowsRange, isNotModified, preconditionFailed } from './conditional.ts';
import { createFileCache } from './file-cache.ts';
import { OPEN_FOR_READING, sameFile } from './file-lookup.ts';
import type { Lookup, Representation } from './file-lookup.ts';
import { builtInPage } from './built-in-page.ts';
import { createProtectionMatcher } from './protection.ts';
import type { ProtectedPrefix } from './protection.ts';
import { parseRange } from './range.ts';
import { encodePathForLocation, normaliseRequestPath } from './request-path.ts';

export type { ProtectedPrefix } from './protection.ts';

export interface StaticSiteOptions {
  /** The built site folder. */
  root: string;
  protectedPrefixes?: readonly ProtectedPrefix[];
  clock?: Clock;
  /** How long a cached look-up is trusted before the file is checked again. */
  revalidateAfterMs?: number;
  /** Files up to this size are kept in memory; larger ones are streamed. */
  maxCachedFileBytes?: number;
  maxCacheBytes?: number;
  maxCacheEntries?: number;
  /** Site path of the page sent with 404s. */
  notFoundPage?: string;
  /** URL path the folder is served under when the caller strips it before resolve() (the proxy's file:// upstream); put back in front of redirects. */
  locationPrefix?: string;
  /** Unexpected I/O errors (answered 500); expected outcomes are never reported here. */
  onError?: (error: unknown, req: IncomingMessage) => void;
}

export type Resolution =
  | { kind: 'invalid'; reason: string }
  | { kind: 'path'; pathname: string; query: string; protection: ProtectedPrefix | null };

export interface StaticSite {
  resolve(requestTarget: string): Resolution;
  serve(req: IncomingMessage, res: ServerResponse, resolution: Resolution): Promise<void>;
  matchProtection(pathname: string): ProtectedPrefix | null;
  close(): void;
}

const NOSNIFF = 'nosniff';
const NO_STORE = 'private, no-store';
const ALLOW = 'GET, HEAD';
const DONE: Promise<void> = Promise.resolve();
// How a response stream fails when the visitor has gone: the connection closed or was reset.
const CLIENT_GONE_CODES = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_UNABLE_TO_PIPE', 'ERR_STREAM_DESTROYED', 'ECONNRESET', 'EPIPE']);
const isClientGone = (error: unknown) => CLIENT_GONE_CODES.has((error as NodeJS.ErrnoException)?.code ?? '');

// Per look-up, computed once: the protection of the real file and ready-made 200 headers, one
// set per representation and protection (okHeaderSlot), found without building a key per request.
interface Prepared {
  realProtection: ProtectedPrefix | null;
  okHeaders: (OutgoingHttpHeaders | undefined)[];
}

const okHeaderSlot = (encoding: PrecompressedEncoding | null, isProtected: boolean): number =>
  (encoding === null ? 0 : encoding === 'br' ? 2 : 4) + (isProtected ? 1 : 0);

export function createStaticSite(options: StaticSiteOptions): StaticSite {
  const rootRealPath = realpathSync(options.root);
  if (!statSync(rootRealPath).isDirectory()) throw new Error(`site root ${options.root} is not a directory`);
  const matcher = createProtectionMatcher(options.protectedPrefixes ?? []);
  const notFoundPath = options.notFoundPage ?? '/404.html';
  const locationPrefix = options.locationPrefix ?? '';
  const onError = options.onError ?? ((error: unknown) => console.error('static edge:', error));
  const clock = options.clock ?? systemClock;
  const cache = createFileCache({
    rootRealPath,
    clock,
    revalidateAfterMs: options.revalidateAfterMs ?? 1000,
    maxBodyBytes: options.maxCachedFileBytes ?? 256 * 1024,
    maxTotalBodyBytes: options.maxCacheBytes ?? 64 * 1024 * 1024,
    maxEntries: options.maxCacheEntries ?? 10_000,
    protectionOf: matcher,
  });
  const prepared = new WeakMap<Lookup, Prepared>();

  function prepare(lookup: Lookup & { kind: 'file' }): Prepared {
    let p = prepared.get(lookup);
    if (!p) {
      p = { realProtection: matcher(lookup.realPathname), okHeaders: [] };
      prepared.set(lookup, p);
    }
    return p;
  }

  function resolve(requestTarget: string): Resolution {
    const normalised = normaliseRequestPath(requestTarget);
    if (!normalised.ok) return { kind: 'invalid', reason: normalised.reason };
    return { kind: 'path', pathname: normalised.pathname, query: normalised.query, protection: matcher(normalised.pathname) };
  }

  async function lookUp(pathname: string): Promise<Lookup> {
    return cache.peek(pathname) ?? await cache.load(pathname);
  }

  // The hot path (a cached file held in memory) runs synchronously: no promise is created unless
  // the disk must be read. Functions below return undefined when they have already answered.
  type Pending = Promise<void> | undefined;

  function sendBuiltIn(req: IncomingMessage, res: ServerResponse, status: number, isProtected: boolean, extra?: OutgoingHttpHeaders): undefined {
    const body = Buffer.from(builtInPage(status));
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': body.length,
      'x-content-type-options': NOSNIFF,
      ...(isProtected ? { 'cache-control': NO_STORE } : {}),
      ...extra,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return undefined;
  }

  async function sendNotFound(req: IncomingMessage, res: ServerResponse, isProtected: boolean) {
    const page = await lookUp(notFoundPath);
    // The 404 page must itself be public, or a 404 could show protected text to anyone.
    if (page.kind !== 'file' || matcher(notFoundPath) !== null || prepare(page).realProtection !== null || page.identity.body === null)
      return sendBuiltIn(req, res, 404, isProtected);
    const encoding = chooseEncoding(req.headers['accept-encoding'], { br: page.br?.body != null, gzip: page.gzip?.body != null });
    const representation = representationFor(page, encoding);
    const headers: OutgoingHttpHeaders = {
      'content-type': page.contentType,
      'content-length': representation.sizeBytes,
      'x-content-type-options': NOSNIFF,
    };
    if (encoding) headers['content-encoding'] = encoding;
    if (page.br || page.gzip) headers['vary'] = 'Accept-Encoding';
    if (isProtected) headers['cache-control'] = NO_STORE;
    res.writeHead(404, headers);
    res.end(req.method === 'HEAD' ? undefined : representation.body!);
  }

  function respond(req: IncomingMessage, res: ServerResponse, resolution: Resolution, attempt: number): Pending {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const isProtected = resolution.kind === 'path' && resolution.protection !== null;
      return sendBuiltIn(req, res, 405, isProtected, { allow: ALLOW });
    }
    if (resolution.kind === 'invalid') return sendBuiltIn(req, res, 400, false);
    const cached = cache.peek(resolution.pathname);
    if (cached !== undefined) return respondWith(req, res, resolution, cached, attempt);
    return cache.load(resolution.pathname).then((lookup) => respondWith(req, res, resolution, lookup, attempt));
  }

  function respondWith(req: IncomingMessage, res: ServerResponse, resolution: Resolution & { kind: 'path' }, lookup: Lookup, attempt: number): Pending {
    const isProtected = resolution.protection !== null;
    if (lookup.kind === 'missing') return sendNotFound(req, res, isProtected);
    if (lookup.kind === 'redirect') {
      res.writeHead(301, {
        location: encodePathForLocation(locationPrefix + lookup.pathname) + resolution.query,
        'content-length': 0,
        'x-content-type-options': NOSNIFF,
        ...(isProtected ? { 'cache-control': NO_STORE } : {}),
      });
      return void res.end();
    }
    const p = prepare(lookup);
    if (p.realProtection !== null && p.realProtection !== resolution.protection) return sendNotFound(req, res, isProtected);
    return sendFile(req, res, resolution, lookup, p, attempt);
  }

  function sendFile(req: IncomingMessage, res: ServerResponse, resolution: Resolution & { kind: 'path' },
    lookup: Lookup & { kind: 'file' }, p: Prepared, attempt: number): Pending {
    const isProtected = resolution.protection !== null;
    const rangeHeader = req.method === 'GET' ? req.headers.range : undefined; // RFC 9110 §14.2: GET only
    const encoding = rangeHeader === undefined
      ? chooseEncoding(req.headers['accept-encoding'], { br: lookup.br !== null, gzip: lookup.gzip !== null })
      : null;
    const representation = representationFor(lookup, encoding);
    const okHeaders = okHeadersFor(p, lookup, encoding, isProtected);

    // RFC 9110 §13.2.2: preconditions are evaluated before Range
    const now = nowSeconds(clock);
    if (preconditionFailed(req.headers, representation, now)) return sendWithoutBody(res, 412, okHeaders);
    if (isNotModified(req.headers, representation, now)) {
      const headers: OutgoingHttpHeaders = { etag: okHeaders.etag, 'last-modified': okHeaders['last-modified'] };
      if (okHeaders.vary) headers.vary = okHeaders.vary;
      if (isProtected) headers['cache-control'] = NO_STORE;
      res.writeHead(304, headers);
      return void res.end();
    }

    let status = 200;
    let start = 0;
    let end = representation.sizeBytes - 1;
    let headers = okHeaders;
    if (rangeHeader !== undefined && ifRangeAllowsRange(req.headers['if-range'] as string | undefined, representation, now)) {
      const range = parseRange(rangeHeader, representation.sizeBytes);
      if (range.kind === 'unsatisfiable') {
        return sendWithoutBody(res, 416, okHeaders, { 'content-range': `bytes */${representation.sizeBytes}` }); // RFC 9110 §15.5.17
      }
      if (range.kind === 'partial') {
        status = 206;
        start = range.start;
        end = range.end;
        headers = { ...okHeaders, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${representation.sizeBytes}` };
      }
    }

    if (req.method === 'HEAD') {
      res.writeHead(status, headers);
      return void res.end();
    }
    if (representation.body !== null) {
      res.writeHead(status, headers);
      return void res.end(status === 200 ? representation.body : representation.body.subarray(start, end + 1));
    }
    return streamFile(req, res, resolution, representation, status, headers, start, end, attempt);
  }

  // 412 and 416 are answers about the file, so they carry its validators and cache headers
  // (a protected file's stay private, no-store), but none of its bytes.
  function sendWithoutBody(res: ServerResponse, status: number, okHeaders: OutgoingHttpHeaders, extra?: OutgoingHttpHeaders): undefined {
    const { etag, 'last-modified': lastModified, vary, 'cache-control': cacheControl } = okHeaders;
    res.writeHead(status, {
      ...extra,
      'content-length': 0,
      'x-content-type-options': NOSNIFF,
      etag, 'last-modified': lastModified,
      ...(vary ? { vary } : {}),
      ...(cacheControl ? { 'cache-control': cacheControl } : {}),
    });
    res.end();
    return undefined;
  }

  async function streamFile(req: IncomingMessage, res: ServerResponse, resolution: Resolution & { kind: 'path' },
    representation: Representation, status: number, headers: OutgoingHttpHeaders, start: number, end: number, attempt: number): Promise<void> {
    // A visitor who left while the file was looked up needs nothing more: an ordinary disconnect
    // (nginx logs it at info), not an error, and no file to open.
    if (res.destroyed) return;
    const handle = await open(representation.path, OPEN_FOR_READING).catch(() => null);
    let unchanged: boolean;
    try {
      const info = handle ? await handle.stat() : null;
      unchanged = info !== null && info.isFile() && sameFile(info, representation);
      // Checked again: the visitor may have left while the file was opened, and pipeline() throws
      // (ERR_STREAM_UNABLE_TO_PIPE) on a destroyed response, leaving its read stream unread.
      if (unchanged && !res.destroyed) {
        res.writeHead(status, headers);
        await pipeline(handle!.createReadStream({ start, end }), res).catch((error: unknown) => {
          if (!isClientGone(error)) onError(error, req); // anything but a visitor leaving is a disk problem
        });
      }
    } finally {
      // Whether the stream ended, failed or never started (a no-op when the stream closed it).
      await handle?.close();
    }
    if (!unchanged) {
      // The file changed between look-up and open (a rebuild): look again rather than send a
      // Content-Length that no longer matches. Twice in a row means it is still being written.
      cache.forget(resolution.pathname);
      if (attempt === 0) return respond(req, res, resolution, 1);
      return sendBuiltIn(req, res, 503, resolution.protection !== null, { 'retry-after': '1' });
    }
  }

  function failed(req: IncomingMessage, res: ServerResponse, resolution: Resolution, error: unknown): void {
    onError(error, req);
    if (!res.headersSent) sendBuiltIn(req, res, 500, resolution.kind === 'path' && resolution.protection !== null);
    else res.destroy();
  }

  function okHeadersFor(p: Prepared, lookup: Lookup & { kind: 'file' }, encoding: PrecompressedEncoding | null, isProtected: boolean) {
    const slot = okHeaderSlot(encoding, isProtected);
    let headers = p.okHeaders[slot];
    if (!headers) {
      const representation = representationFor(lookup, encoding);
      headers = {
        'content-type': lookup.contentType,
        'content-length': representation.sizeBytes,
        etag: representation.etag,
        'last-modified': representation.lastModified,
        'x-content-type-options': NOSNIFF,
      };
      if (encoding) headers['content-encoding'] = encoding;
      else headers['accept-ranges'] = 'bytes';
      if (lookup.br || lookup.gzip) headers.vary = 'Accept-Encoding';
      if (isProtected) headers['cache-control'] = NO_STORE;
      p.okHeaders[slot] = headers;
    }
    return headers;
  }

  return {
    resolve,
    serve(req, res, resolution) {
      let pending: Pending;
      try {
        pending = respond(req, res, resolution, 0);
      } catch (error) {
        failed(req, res, resolution, error);
        return DONE;
      }
      return pending === undefined ? DONE : pending.catch((error: unknown) => failed(req, res, resolution, error));
    },
    matchProtection(pathname) {
      const normalised = normaliseRequestPath(pathname);
      if (!normalised.ok) throw new AppError('invalid_path', 400, `This path cannot be served: ${normalised.reason}.`);
      return matcher(normalised.pathname);
    },
    close() {
      cache.clear();
    },
  };
}

function representationFor(lookup: Lookup & { kind: 'file' }, encoding: PrecompressedEncoding | null): Representation {
  if (encoding === 'br' && lookup.br) return lookup.br;
  if (encoding === 'gzip' && lookup.gzip) return lookup.gzip;
  return lookup.identity;
}
