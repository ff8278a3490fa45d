// The one post-sign-in redirect validator, applied when a flow starts and again at the callback
// (an open redirect turns the sign-in page into a phishing tool: RFC 9700 §4.11.2).
//
// Accepted:
//  - a path that starts with exactly one '/', with no control character, whitespace or backslash
//    anywhere (browsers read '/\evil', '/\t/evil' as '//evil'), and none of the segments
//    oauth2-proxy's IsValidRedirect refuses ('//', '/./', '/../' anywhere);
//  - an absolute http(s) URL without userinfo whose host is the request's own host (same port), or
//    a --whitelist-domain: 'host' (no port = default port only), 'host:8080', 'host:*', and a
//    leading '.' or '*.' for subdomains, as in oauth2-proxy;
//  - the provider's own end_session_endpoint (any query), when the caller names it: /sign_out
//    continues there so that switching accounts also signs out of the provider.
// Everything else becomes '/'.

export interface RedirectContext {
  /** The Host the browser used (host[:port]), after forwarded-header trust rules. */
  requestHost: string;
  whitelistDomains: readonly string[];
  /** The provider's end_session_endpoint, allowed as a target wherever it is (scheme, host, port and path equal). */
  providerLogout?: string | null;
}

// C0 controls, space, DEL, backslash: never in a safe target (corpus rule R1).
const UNSAFE_CHARACTERS = /[\u0000-\u0020\u007f\\]/;
// oauth2-proxy's invalidRedirectRegex: a slash, optional whitespace or dots, a slash.
const DOUBLE_SLASH_LIKE = /[/\\](?:[\s\v]*|\.{1,2})[/\\]/;
const ABSOLUTE = /^https?:\/\/[^/]/i;

export function validateRedirect(target: string | null | undefined, context: RedirectContext): string {
  if (!target || UNSAFE_CHARACTERS.test(target)) return '/';
  if (target.startsWith('/')) return validatePath(target);
  if (ABSOLUTE.test(target)) return validateAbsolute(target, context);
  return '/';
}

function validatePath(target: string): string {
  if (target.startsWith('//') || DOUBLE_SLASH_LIKE.test(target)) return '/';
  // Non-ASCII text is legal in a path but not in a Location header: percent-encode it (once).
  try {
    return target.replace(/[^\u0000-\u007f]+/gu, (text) => encodeURIComponent(text));
  } catch {
    return '/'; // a lone surrogate cannot be encoded
  }
}

function validateAbsolute(target: string, context: RedirectContext): string {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return '/';
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) return '/';
  // '@' anywhere before the path means userinfo that the WHATWG parser may have read differently.
  const authority = target.slice(target.indexOf('//') + 2).split(/[/?#]/, 1)[0];
  if (authority.includes('@')) return '/';
  if (hostAllowed(url, context) || isProviderLogout(url, context.providerLogout)) return url.href;
  return '/';
}

function isProviderLogout(url: URL, endpoint: string | null | undefined): boolean {
  if (!endpoint) return false;
  const logout = new URL(endpoint);
  return url.origin === logout.origin && url.pathname === logout.pathname;
}

/** The request's own host (same port) or a --whitelist-domain; also where sign_out trusts an Origin from (cross-site.ts). */
export function hostAllowed(url: URL, context: Pick<RedirectContext, 'requestHost' | 'whitelistDomains'>): boolean {
  const ownHost = context.requestHost.toLowerCase();
  if (ownHost && url.host === canonicalHost(ownHost, url.protocol)) return true;
  for (const entry of context.whitelistDomains) {
    const { host, port } = splitWhitelistEntry(entry.toLowerCase());
    if (!host) continue;
    const subdomains = host.startsWith('.');
    const bare = host.replace(/^\./, '');
    const nameMatches = url.hostname === bare || (subdomains && url.hostname.endsWith(host));
    if (nameMatches && (port === '*' || port === url.port)) return true;
  }
  return false;
}

/** The host as the URL parser would print it for this scheme (default port dropped). */
function canonicalHost(host: string, protocol: string): string {
  try {
    return new URL(`${protocol}//${host}`).host;
  } catch {
    return '';
  }
}

function splitWhitelistEntry(entry: string): { host: string; port: string } {
  const normalized = entry.startsWith('*.') ? entry.slice(1) : entry;
  const match = /^(.*?)(?::(\d+|\*))?$/.exec(normalized);
  return { host: match?.[1] ?? '', port: match?.[2] ?? '' };
}
