// Logout CSRF. oauth2-proxy ends the session on any request to /oauth2/sign_out, so any other
// website can sign its visitors out of this one: an <img src=".../oauth2/sign_out">, a link, a
// form that posts there, and with `rd` at the provider's end_session_endpoint on into the
// provider's sign-out. Fetch Metadata (W3C) says where a browser's request comes from, and current
// browsers send Sec-Fetch-Site on every request (Chrome 76, Firefox 90, Safari 16.4).
//
// Trusted, as in oauth2-proxy:
//  - same-origin: the site's own links and forms, the refusal page's "sign out" links;
//  - same-site: the provider's pages (id.example.com beside agents.example.com). A host of the same
//    site can push the session cookie out of the browser anyway (browsers cap the cookies of one
//    site), so refusing it would protect nothing and cost the provider's links a click;
//  - none: typed, bookmarked, opened from another application;
//  - no Sec-Fetch-Site (curl, scripts, tests, a browser from before Fetch Metadata): the Origin
//    header decides when there is one (browsers send it with every POST): the request's own host
//    name, on any port, or a --whitelist-domain. Without either header nothing says where the request came from, and
//    refusing it would break every script; such an old browser keeps oauth2-proxy's behaviour.
// Anything else (cross-site, a value no browser sends, `Origin: null`) is cross-site.
import type { IncomingHttpHeaders } from 'node:http';
import { hostAllowed, type RedirectContext } from './redirect.ts';

const TRUSTED_SITES = new Set(['same-origin', 'same-site', 'none']);

const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** `isTrustedOrigin`: whether an Origin header's URL names this site (its host, or a whitelisted one). */
export function isCrossSite(headers: IncomingHttpHeaders, isTrustedOrigin: (origin: URL) => boolean): boolean {
  const site = single(headers['sec-fetch-site']);
  if (site !== undefined) return !TRUSTED_SITES.has(site);
  const origin = single(headers.origin);
  if (origin === undefined) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return true; // 'null' (an opaque origin: a sandboxed frame, a data: URL) or not a URL
  }
  return !isTrustedOrigin(url);
}

/**
 * An Origin header of this site: http(s), with the request's own host name, or a --whitelist-domain.
 * Any port of the host: Sec-Fetch-Site calls another port same-site too, and an edge that passes
 * the Host without its port (nginx's $host) must not make the site's own forms look foreign.
 */
export function isOriginOfSite(origin: URL, context: Pick<RedirectContext, 'requestHost' | 'whitelistDomains'>): boolean {
  if (origin.protocol !== 'https:' && origin.protocol !== 'http:') return false;
  return origin.hostname === hostnameOf(context.requestHost) || hostAllowed(origin, context);
}

const hostnameOf = (host: string): string | null => {
  try {
    return host ? new URL(`http://${host}`).hostname : null;
  } catch {
    return null;
  }
};
