// Validators and conditional requests for static files (RFC 9110 §8.8, §13).
//
// The ETag has nginx's shape, `"<mtime hex>-<size hex>"`, but with the modification time in
// milliseconds rather than seconds, so two same-size saves within one second do not share a
// validator (nginx's would, and a browser could keep the older page after a 304).

export interface Validators {
  etag: string;
  /** Modification time in whole seconds since the epoch, as HTTP dates have no finer resolution. */
  lastModifiedSeconds: number;
}

export function makeEtag(sizeBytes: number, mtimeMs: number): string {
  return `"${Math.floor(mtimeMs).toString(16)}-${sizeBytes.toString(16)}"`;
}

const opaqueTag = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);

/** §13.1.2: weak comparison, a list of entity tags or `*`. */
export function noneMatchHits(ifNoneMatch: string, etag: string): boolean {
  const value = ifNoneMatch.trim();
  if (value === '*') return true;
  const wanted = opaqueTag(etag);
  return value.split(',').some((tag) => opaqueTag(tag.trim()) === wanted);
}

export function parseHttpDateSeconds(text: string): number | null {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

/**
 * Whether a GET or HEAD may be answered with 304 Not Modified (§13.2.2 steps 3 and 4):
 * If-None-Match decides when present, and If-Modified-Since is then ignored (§13.1.3).
 */
export function isNotModified(headers: { 'if-none-match'?: string; 'if-modified-since'?: string }, v: Validators): boolean {
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) return noneMatchHits(ifNoneMatch, v.etag);
  const ifModifiedSince = headers['if-modified-since'];
  if (ifModifiedSince === undefined) return false;
  const sinceSeconds = parseHttpDateSeconds(ifModifiedSince);
  return sinceSeconds !== null && v.lastModifiedSeconds <= sinceSeconds;
}

/**
 * §13.1.5: a Range applies only if If-Range is absent, or is a strong ETag that matches exactly,
 * or is an HTTP date equal to Last-Modified. Otherwise the whole representation is sent.
 */
export function ifRangeAllowsRange(ifRange: string | undefined, v: Validators): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('W/')) return false; // weak tags never match in a strong comparison
  if (value.startsWith('"')) return value === v.etag;
  const dateSeconds = parseHttpDateSeconds(value);
  return dateSeconds !== null && dateSeconds === v.lastModifiedSeconds;
}
