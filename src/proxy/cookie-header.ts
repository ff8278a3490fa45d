// Reading the Cookie header and writing Set-Cookie lines by hand: the auth path parses one header
// per request, and serve mode needs the same strings without fastify.
import type { SameSite } from './config.ts';

/** name → value of every cookie in a Cookie header (first one wins, as browsers send the most specific first). */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    if (!name || cookies.has(name)) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    cookies.set(name, value);
  }
  return cookies;
}

export interface CookieAttributes {
  domain: string | null;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite: SameSite;
}

const SAME_SITE: Record<SameSite, string> = { lax: 'Lax', strict: 'Strict', none: 'None', '': '' };

/** One Set-Cookie value; maxAgeSeconds 0 deletes the cookie (RFC 6265 §5.2.2). */
export function serializeCookie(name: string, value: string, attrs: CookieAttributes, maxAgeSeconds: number, nowMs: number): string {
  let line = `${name}=${value}; Path=${attrs.path}`;
  if (attrs.domain) line += `; Domain=${attrs.domain}`;
  // Expires as well as Max-Age, as oauth2-proxy sends, for clients that only read Expires.
  line += `; Max-Age=${maxAgeSeconds}; Expires=${new Date(maxAgeSeconds > 0 ? nowMs + maxAgeSeconds * 1000 : 0).toUTCString()}`;
  if (attrs.httpOnly) line += '; HttpOnly';
  if (attrs.secure) line += '; Secure';
  if (attrs.sameSite) line += `; SameSite=${SAME_SITE[attrs.sameSite]}`;
  return line;
}

/**
 * oauth2-proxy's --cookie-domain rule: the longest configured domain that the request host is
 * within; if none matches, the shortest one; none configured = a host-only cookie.
 */
export function cookieDomainFor(requestHost: string, domains: readonly string[]): string | null {
  if (domains.length === 0) return null;
  const hostname = requestHost.replace(/:\d+$/, '').toLowerCase();
  const byLength = [...domains].sort((a, b) => b.length - a.length);
  for (const domain of byLength) {
    const bare = domain.replace(/^\./, '').toLowerCase();
    if (hostname === bare || hostname.endsWith(`.${bare}`)) return domain;
  }
  return byLength[byLength.length - 1];
}
