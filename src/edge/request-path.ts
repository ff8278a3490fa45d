// Turns a request-target into the one normalised path that is both served and checked against the
// protected prefixes. Keeping these the same string is what stops `/private/../private/x`,
// `//private/x` or `/%70rivate/x` from being served without the check.
//
// Rules: percent-decode exactly once (RFC 3986 §2.4: decoding twice turns `%252e` into `.`);
// refuse a raw "#" (a request-target never carries a fragment, RFC 9112 §3.2, and a server that
// reads it as part of the path disagrees on the file with one that drops it: oauth2-proxy's
// CVE-2026-41059); refuse what a file server has no business receiving: NUL, backslashes, encoded slashes
// (`%2f`, `%5c`: they would let one segment name two) and malformed percent-encoding or UTF-8;
// drop empty (`//`) and `.` segments; `..` removes the previous segment and never climbs above
// the root (RFC 3986 §5.2.4, remove_dot_segments). A trailing slash is kept, because `/dir` and
// `/dir/` are answered differently (redirect vs index).
//
// An absolute-form target (`http://host/path?query`, RFC 9112 §3.2.2) is first split by
// splitAbsoluteForm; the origin-form path it yields then goes through exactly these rules.

export type NormalisedPath =
  | { ok: true; pathname: string; query: string }
  | { ok: false; reason: string };

// Characters whose presence sends a path down the slow, careful route.
const NEEDS_WORK = /[%\\#]|\/\/|\/\./;

/** Normalises `requestTarget` (origin-form: `/path?query`, as in `req.url`). */
export function normaliseRequestPath(requestTarget: string): NormalisedPath {
  const queryAt = requestTarget.indexOf('?');
  const rawPath = queryAt === -1 ? requestTarget : requestTarget.slice(0, queryAt);
  const query = queryAt === -1 ? '' : requestTarget.slice(queryAt);
  if (rawPath[0] !== '/') return { ok: false, reason: 'the path must start with "/"' };
  if (rawPath === '/') return { ok: true, pathname: '/', query };
  if (!NEEDS_WORK.test(rawPath) && !rawPath.includes('\0')) return { ok: true, pathname: rawPath, query };

  if (rawPath.includes('\\')) return { ok: false, reason: 'backslashes are not allowed in paths' };
  if (rawPath.includes('#')) return { ok: false, reason: 'a request path cannot contain "#"' };
  let decoded = rawPath;
  if (rawPath.includes('%')) {
    if (/%(?![0-9a-fA-F]{2})/.test(rawPath)) return { ok: false, reason: 'invalid percent-encoding' };
    if (/%(2f|5c)/i.test(rawPath)) return { ok: false, reason: 'encoded slashes are not allowed in paths' };
    try {
      decoded = decodeURIComponent(rawPath);
    } catch {
      return { ok: false, reason: 'the path is not valid UTF-8' };
    }
  }
  if (decoded.includes('\0')) return { ok: false, reason: 'NUL bytes are not allowed in paths' };

  const segments: string[] = [];
  const parts = decoded.split('/');
  let trailingSlash = false;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i];
    const isLast = i === parts.length - 1;
    if (part === '' || part === '.') {
      if (isLast) trailingSlash = true;
    } else if (part === '..') {
      segments.pop();
      if (isLast) trailingSlash = true;
    } else {
      segments.push(part);
      if (isLast) trailingSlash = false;
    }
  }
  if (segments.length === 0) return { ok: true, pathname: '/', query };
  return { ok: true, pathname: '/' + segments.join('/') + (trailingSlash ? '/' : ''), query };
}

export type AbsoluteForm =
  | { ok: true; /** `/path?query`, as origin-form would have carried it */ originForm: string; /** `host[:port]` */ authority: string }
  | { ok: false; reason: string };

// scheme "://" authority, then the rest (path-abempty and query): RFC 3986 §3
const ABSOLUTE_FORM = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;
// What a Host header may hold (as proxy/request-origin.ts reads it): a name or [v6], and a port.
const AUTHORITY = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Splits an absolute-form request-target (`http://host:port/path?query`), which RFC 9112 §3.2.2
 * says a server MUST accept, into the origin-form target to serve and check and the authority,
 * which then replaces Host (as nginx does). Returns null for a target that is not in
 * absolute-form (origin-form `/…`, asterisk-form `*`), so those keep their own handling.
 * Refused: a scheme other than http or https, userinfo (RFC 9110 §4.2.4: to be treated as an
 * error), an empty or malformed host, and a fragment.
 */
export function splitAbsoluteForm(requestTarget: string): AbsoluteForm | null {
  const match = ABSOLUTE_FORM.exec(requestTarget);
  if (match === null) return null;
  const [, scheme, authority, rest] = match;
  const lowerScheme = scheme.toLowerCase();
  if (lowerScheme !== 'http' && lowerScheme !== 'https') return { ok: false, reason: 'only http and https addresses are served' };
  if (authority.includes('@')) return { ok: false, reason: 'an address cannot carry a user name or password' };
  if (!AUTHORITY.test(authority)) return { ok: false, reason: 'the address has no valid host' };
  if (rest.startsWith('#')) return { ok: false, reason: 'a request path cannot contain "#"' };
  // RFC 9110 §4.2.3: an empty path is "/"; the path's own "#", "//" and dot segments are
  // normaliseRequestPath's to refuse or remove, exactly as in origin-form.
  return { ok: true, originForm: rest.startsWith('/') ? rest : '/' + rest, authority };
}

/** Percent-encodes a normalised path again for a Location header (each segment on its own). */
export function encodePathForLocation(pathname: string): string {
  return pathname.split('/').map(encodeURIComponent).join('/');
}
