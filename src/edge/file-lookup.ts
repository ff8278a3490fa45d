// Maps a normalised request path to what is on disk: a file (with its precompressed siblings),
// a directory that needs a trailing-slash redirect, or nothing we may serve. This is the only
// place that touches the file system for metadata; file-cache.ts decides how often it runs.
//
// Safety rules, applied to the requested path AND to the real path behind any symlink:
// - the real path (fs.realpath) must be inside the site root, so a symlink to /etc/passwd is 404;
// - no segment may start with "." except a leading `.well-known` (RFC 8615), so `.git`, `.env`
//   and editor droppings stay private even when they end up in the output folder;
// - no listings: a directory without index.html is 404.
// A precompressed sibling is a second file with its own real path, so it gets the same checks
// and must also sit under exactly the protection of the file it compresses: otherwise a public
// `page.html.gz` symlinked into `/private/` would hand the private bytes to anyone.
//
// Files are opened non-blocking and checked with fstat before anything is read, so a FIFO (or a
// device) named index.html or *.gz is 404 instead of holding a libuv thread in open() forever.
import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { contentTypeFor } from './content-type.ts';
import { makeEtag } from './conditional.ts';
import type { PrecompressedEncoding } from './accept-encoding.ts';
import type { ProtectedPrefix, ProtectionMatcher } from './protection.ts';

export interface Representation {
  /** Real absolute path of the bytes on disk. */
  path: string;
  sizeBytes: number;
  mtimeMs: number;
  /** Status-change time: moves on every write, and utimes (`cp -p`, `touch -r`) cannot set it back. */
  ctimeMs: number;
  ino: number;
  etag: string;
  lastModifiedSeconds: number;
  lastModified: string;
  /** The whole file when it is small enough to keep in memory; null means stream it. */
  body: Buffer | null;
}

export type Lookup =
  | {
      kind: 'file';
      contentType: string;
      identity: Representation;
      br: Representation | null;
      gzip: Representation | null;
      /** Path of the real file relative to the root ("/private/a.html"), to re-check protection. */
      realPathname: string;
    }
  | { kind: 'redirect'; pathname: string } // a directory asked for without its trailing slash
  | { kind: 'missing' };

export interface LookupOptions {
  rootRealPath: string;
  maxBodyBytes: number;
  /** The site's protected prefixes, matched against real paths relative to the root. */
  protectionOf: ProtectionMatcher;
}

const MISSING: Lookup = Object.freeze({ kind: 'missing' });
// Errors that mean "there is nothing servable here", as opposed to a broken disk.
const ABSENT_CODES = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES', 'EPERM', 'ENAMETOOLONG', 'EISDIR']);
const isAbsent = (error: unknown) => ABSENT_CODES.has((error as NodeJS.ErrnoException)?.code ?? '');

/**
 * How served files are opened: O_NONBLOCK makes open() of a FIFO return at once (it would
 * otherwise wait for a writer); on a regular file it changes nothing. Callers fstat and refuse
 * anything but a regular file before reading.
 */
export const OPEN_FOR_READING = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Whether an open file is still the one a look-up described (a rewrite in place changes ctime). */
export const sameFile = (info: { ino: number; size: number; mtimeMs: number; ctimeMs: number }, r: Representation): boolean =>
  info.ino === r.ino && info.size === r.sizeBytes && info.mtimeMs === r.mtimeMs && info.ctimeMs === r.ctimeMs;

export function hasHiddenSegment(segments: readonly string[]): boolean {
  return segments.some((segment, i) => segment.startsWith('.') && !(i === 0 && segment === '.well-known'));
}

/** `previous` lets an unchanged file keep its cached body instead of being read again. */
export async function lookUpPath(pathname: string, options: LookupOptions, previous?: Lookup): Promise<Lookup> {
  const segments = pathname.split('/').filter(Boolean);
  if (hasHiddenSegment(segments)) return MISSING;
  try {
    const real = await realInsideRoot(join(options.rootRealPath, ...segments), options);
    if (real === null) return MISSING;
    const info = await stat(real.path);
    const wantsDirectory = pathname.endsWith('/');
    if (info.isDirectory()) {
      if (!wantsDirectory) return { kind: 'redirect', pathname: pathname + '/' };
      const index = await realInsideRoot(join(real.path, 'index.html'), options);
      return index === null ? MISSING : await fileLookup(index, options, previous);
    }
    if (!info.isFile() || wantsDirectory) return MISSING; // "/style.css/" is not a file (nginx: 404)
    return await fileLookup(real, options, previous);
  } catch (error) {
    if (isAbsent(error)) return MISSING;
    throw error;
  }
}

async function realInsideRoot(candidate: string, options: LookupOptions): Promise<{ path: string; pathname: string } | null> {
  let path: string;
  try {
    path = await realpath(candidate);
  } catch (error) {
    if (isAbsent(error)) return null;
    throw error;
  }
  const root = options.rootRealPath;
  if (path !== root && !path.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  const relative = path.slice(root.length).split(sep).filter(Boolean);
  if (hasHiddenSegment(relative)) return null;
  return { path, pathname: '/' + relative.join('/') };
}

async function fileLookup(real: { path: string; pathname: string }, options: LookupOptions, previous?: Lookup): Promise<Lookup> {
  const before = previous?.kind === 'file' ? previous : null;
  const identity = await readRepresentation(real.path, options, before?.identity);
  if (identity === null) return MISSING;
  const protection = options.protectionOf(real.pathname);
  const [br, gzip] = await Promise.all([
    precompressedSibling(real.path + '.br', 'br', identity, protection, options, before?.br),
    precompressedSibling(real.path + '.gz', 'gzip', identity, protection, options, before?.gzip),
  ]);
  return { kind: 'file', contentType: contentTypeFor(real.path), identity, br, gzip, realPathname: real.pathname };
}

async function precompressedSibling(path: string, encoding: PrecompressedEncoding, identity: Representation,
  protection: ProtectedPrefix | null, options: LookupOptions, previous?: Representation | null) {
  const real = await realInsideRoot(path, options);
  // Not an error: without a usable sibling the file itself is sent uncompressed.
  if (real === null || options.protectionOf(real.pathname) !== protection) return null;
  const representation = await readRepresentation(real.path, options, previous ?? undefined, encoding);
  // A sibling older than the file it compresses is left over from an earlier build: serving it
  // would undo the edit. One second of slack covers tools that copy the original's mtime.
  if (representation === null || representation.mtimeMs + 1000 < identity.mtimeMs) return null;
  return representation;
}

/**
 * Metadata (and a small file's bytes) read through one open handle, so they describe the same file.
 * `encoding` names a precompressed sibling, whose ETag is marked with it: `gzip -k` and `brotli -k`
 * keep the original's mtime, and a sibling of the same size would otherwise share its ETag.
 */
async function readRepresentation(path: string, options: LookupOptions, previous?: Representation,
  encoding?: PrecompressedEncoding): Promise<Representation | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FOR_READING);
  } catch (error) {
    if (isAbsent(error)) return null;
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return null; // a FIFO, socket or device: nothing to serve (nginx: 404)
    // ctime too: a same-size rewrite given back its old mtime (`cp -p`, `touch -r`, a file system
    // with coarse timestamps) keeps path, inode, size and mtime, and would be served stale forever.
    if (previous && previous.path === path && sameFile(info, previous)) return previous;
    let body: Buffer | null = null;
    if (info.size <= options.maxBodyBytes) {
      body = await handle.readFile();
      // Changed while we read it (a rebuild in progress): keep the metadata, stream the bytes, and
      // let the serving side's size check or the next look-up pick up the finished file.
      if (body.length !== info.size) body = null;
    }
    const lastModifiedSeconds = Math.floor(info.mtimeMs / 1000);
    return {
      path,
      sizeBytes: info.size,
      mtimeMs: info.mtimeMs,
      ctimeMs: info.ctimeMs,
      ino: info.ino,
      etag: makeEtag(info.size, info.mtimeMs, encoding),
      lastModifiedSeconds,
      lastModified: new Date(lastModifiedSeconds * 1000).toUTCString(),
      body,
    };
  } finally {
    await handle.close();
  }
}
