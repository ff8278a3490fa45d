// Remembers file look-ups (metadata, validators, small bodies) so a hot page is answered from
// memory. An entry is trusted for `revalidateAfterMs` (1 s by default), then looked up again
// before it is used, so a rebuilt file is served fresh within about a second while each path
// costs the file system at most one look-up per second. Concurrent misses for one path share a
// single look-up. Entries leave in insertion order once the entry or body-byte budget is spent,
// which also bounds memory spent on remembering missing paths (404 floods).
import type { Clock } from '../core/clock.ts';
import { lookUpPath } from './file-lookup.ts';
import type { Lookup, LookupOptions } from './file-lookup.ts';

export interface FileCacheOptions extends LookupOptions {
  clock: Clock;
  revalidateAfterMs: number;
  maxEntries: number;
  maxTotalBodyBytes: number;
}

interface Entry {
  lookup: Lookup;
  checkedAtMs: number;
  bodyBytes: number;
}

export interface FileCache {
  /** The cached look-up if it is still fresh; undefined means call load(). Never touches the disk. */
  peek(pathname: string): Lookup | undefined;
  /** Looks the path up on disk (sharing a look-up already under way) and caches the result. */
  load(pathname: string): Promise<Lookup>;
  /** Forgets one path, e.g. after its file vanished between look-up and open. */
  forget(pathname: string): void;
  clear(): void;
  readonly size: number;
}

const bodyBytesOf = (lookup: Lookup) => lookup.kind !== 'file' ? 0
  : (lookup.identity.body?.length ?? 0) + (lookup.br?.body?.length ?? 0) + (lookup.gzip?.body?.length ?? 0);

export function createFileCache(options: FileCacheOptions): FileCache {
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<Lookup>>();
  let totalBodyBytes = 0;

  function remove(pathname: string) {
    const entry = entries.get(pathname);
    if (!entry) return;
    totalBodyBytes -= entry.bodyBytes;
    entries.delete(pathname);
  }

  function store(pathname: string, lookup: Lookup) {
    remove(pathname);
    const bodyBytes = bodyBytesOf(lookup);
    entries.set(pathname, { lookup, checkedAtMs: options.clock.nowMs(), bodyBytes });
    totalBodyBytes += bodyBytes;
    for (const oldest of entries.keys()) {
      if (entries.size <= options.maxEntries && totalBodyBytes <= options.maxTotalBodyBytes) break;
      if (oldest === pathname) continue; // keep what was just looked up
      remove(oldest);
    }
  }

  return {
    peek(pathname) {
      const entry = entries.get(pathname);
      if (entry === undefined || options.clock.nowMs() - entry.checkedAtMs >= options.revalidateAfterMs) return undefined;
      return entry.lookup;
    },
    load(pathname) {
      const running = inFlight.get(pathname);
      if (running) return running;
      const previous = entries.get(pathname)?.lookup;
      const loading = lookUpPath(pathname, options, previous)
        .then((lookup) => {
          store(pathname, lookup);
          return lookup;
        })
        .finally(() => inFlight.delete(pathname));
      inFlight.set(pathname, loading);
      return loading;
    },
    forget: remove,
    clear() {
      entries.clear();
      totalBodyBytes = 0;
    },
    get size() {
      return entries.size;
    },
  };
}
