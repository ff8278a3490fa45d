// Validators and conditional requests for static files (RFC 9110 §8.8, §13).
//
// The ETag has nginx's shape, `"<mtime hex>-<size hex>"`, but with the modification time in
// milliseconds rather than seconds, so two same-size saves within one second do not share a
// validator (nginx's would, and a browser could keep the older page after a 304). A precompressed
// sibling's tag ends in its encoding (`"<mtime>-<size>-br"`, as Apache marks `-gzip`): `gzip -k`
// and `brotli -k` keep the original's mtime, so a same-size sibling would otherwise share its tag,
// and a cache or an If-None-Match could take one representation's bytes for the other's.

export interface Validators {
  etag: string;
  /** Modification time in whole seconds since the epoch, as HTTP dates have no finer resolution. */
  lastModifiedSeconds: number;
}

export function makeEtag(sizeBytes: number, mtimeMs: number, encoding?: string): string {
  return `"${Math.floor(mtimeMs).toString(16)}-${sizeBytes.toString(16)}${encoding ? `-${encoding}` : ''}"`;
}

const opaqueTag = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);

/** §13.1.2: weak comparison, a list of entity tags or `*`. */
export function noneMatchHits(ifNoneMatch: string, etag: string): boolean {
  const value = ifNoneMatch.trim();
  if (value === '*') return true;
  const wanted = opaqueTag(etag);
  return value.split(',').some((tag) => opaqueTag(tag.trim()) === wanted);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(?<month>${MONTHS.join('|')})`;
const TIME = '(?<hour>\\d{2}):(?<minute>\\d{2}):(?<second>\\d{2})';
// §5.6.7: IMF-fixdate, and the two obsolete forms a recipient must still accept. Case-sensitive,
// like the grammar. Date.parse is not used: it takes "2099" or "1 x 9999", and a 304 would follow.
const HTTP_DATES = [
  new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (?<day>\\d{2}) ${MONTH} (?<year>\\d{4}) ${TIME} GMT$`),
  new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (?<day>\\d{2})-${MONTH}-(?<year>\\d{2}) ${TIME} GMT$`),
  new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} (?<day>\\d{2}| \\d) ${TIME} (?<year>\\d{4})$`), // asctime
];

/**
 * Seconds since the epoch of an HTTP-date (RFC 9110 §5.6.7), or null for anything else.
 * `nowSeconds` places rfc850-date's two-digit year: never more than 50 years ahead.
 */
export function parseHttpDateSeconds(text: string, nowSeconds: number): number | null {
  let groups: Record<string, string> | undefined;
  for (const form of HTTP_DATES) {
    groups = form.exec(text)?.groups;
    if (groups) break;
  }
  if (!groups) return null;
  const month = MONTHS.indexOf(groups.month);
  const [day, hour, minute, second] = [groups.day, groups.hour, groups.minute, groups.second].map(Number);
  const twoDigitYear = groups.year.length === 2;
  let year = Number(groups.year);
  if (twoDigitYear) {
    const thisYear = new Date(nowSeconds * 1000).getUTCFullYear();
    year += thisYear - (thisYear % 100);
  }
  if (hour > 23 || minute > 59 || second > 60) return null; // 60: a leap second
  const at = (fullYear: number) => {
    const midnight = new Date(0);
    midnight.setUTCFullYear(fullYear, month, day); // not Date.UTC, which reads year 0099 as 1999
    return day < 1 || midnight.getUTCDate() !== day ? null : midnight.getTime() / 1000 + hour * 3600 + minute * 60 + second; // "31 Feb" is no date
  };
  const seconds = at(year);
  // RFC 9110 §5.6.7: a two-digit year that would put the date more than 50 years ahead is the past century's
  if (seconds !== null && twoDigitYear && seconds > nowSeconds + FIFTY_YEARS_SECONDS) return at(year - 100);
  return seconds;
}

const FIFTY_YEARS_SECONDS = Math.round(50 * 365.2425 * 24 * 3600);

/** §13.1.1: strong comparison, a list of entity tags or `*` (the file exists). */
function matchHits(ifMatch: string, etag: string): boolean {
  const value = ifMatch.trim();
  if (value === '*') return true;
  return value.split(',').some((tag) => tag.trim() === etag); // a W/ tag never equals a strong one
}

export interface ConditionalHeaders {
  'if-match'?: string;
  'if-unmodified-since'?: string;
  'if-none-match'?: string;
  'if-modified-since'?: string;
}

/**
 * Whether a GET or HEAD must be answered 412 Precondition Failed (§13.2.2 steps 1 and 2):
 * If-Match decides when present, and If-Unmodified-Since is then ignored (§13.1.4).
 */
export function preconditionFailed(headers: ConditionalHeaders, v: Validators, nowSeconds: number): boolean {
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) return !matchHits(ifMatch, v.etag);
  const ifUnmodifiedSince = headers['if-unmodified-since'];
  if (ifUnmodifiedSince === undefined) return false;
  const sinceSeconds = parseHttpDateSeconds(ifUnmodifiedSince, nowSeconds);
  return sinceSeconds !== null && v.lastModifiedSeconds > sinceSeconds;
}

/**
 * Whether a GET or HEAD may be answered with 304 Not Modified (§13.2.2 steps 3 and 4):
 * If-None-Match decides when present, and If-Modified-Since is then ignored (§13.1.3), as is an
 * If-Modified-Since later than now, which §13.1.3 calls invalid.
 */
export function isNotModified(headers: ConditionalHeaders, v: Validators, nowSeconds: number): boolean {
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) return noneMatchHits(ifNoneMatch, v.etag);
  const ifModifiedSince = headers['if-modified-since'];
  if (ifModifiedSince === undefined) return false;
  const sinceSeconds = parseHttpDateSeconds(ifModifiedSince, nowSeconds);
  return sinceSeconds !== null && sinceSeconds <= nowSeconds && v.lastModifiedSeconds <= sinceSeconds;
}

/**
 * §13.1.5: a Range applies only if If-Range is absent, or is a strong ETag that matches exactly,
 * or is an HTTP date equal to Last-Modified. Otherwise the whole representation is sent.
 */
export function ifRangeAllowsRange(ifRange: string | undefined, v: Validators, nowSeconds: number): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('W/')) return false; // weak tags never match in a strong comparison
  if (value.startsWith('"')) return value === v.etag;
  const dateSeconds = parseHttpDateSeconds(value, nowSeconds);
  return dateSeconds !== null && dateSeconds === v.lastModifiedSeconds;
}
