// How much an authorization request may ask the provider to keep. oidc-provider stores every
// parameter of an authorization request that needs a sign-in in an Interaction row, for
// TTL_SECONDS.Interaction (30 minutes), before anyone has signed in: a row is about 0.9 KB longer
// than the query it came from (a 6.4 KB query made a 7.3 KB row, a 12.7 KB one 13.5 KB).
// RFC 6749 (§4.1.1; its Appendix A.5 gives state's syntax as 1*VSCHAR, of any length) and OIDC Core
// (§3.1.2.1) set no length for any parameter, nor does RFC 9126 for a pushed request: these
// bounds are ours, far above what real clients send, checked before the provider sees the request
// (routes.ts), so that a refused request stores nothing.
import { providerRouteOf } from './paths.ts';

/**
 * The whole query string, percent-encoded as sent, in bytes. nginx refuses a request line longer
 * than its default header buffer (large_client_header_buffers 4 8k) with 414, so behind the
 * deployment guide's nginx no longer request ever arrived; this makes a direct or Caddy
 * deployment the same. It bounds an Interaction row at about 9 KB.
 */
export const AUTHORIZATION_QUERY_MAX_BYTES = 8192;

/** Any parameter not listed in PARAMETER_MAX_CHARS (redirect_uri, scope, code_challenge, claims …). */
export const OTHER_PARAMETER_MAX_CHARS = 2048;

/**
 * The longest value of one parameter, in characters after percent-decoding.
 * - state: oauth2-proxy sends "<43-character hash of its CSRF nonce>:<the return URL>" (its
 *   oauthproxy.go encodeState; base64url of that with --encode-state), so 2,048 lets through a
 *   return URL of 2,004 characters (1,492 with --encode-state): past the 2,000 or so long held to
 *   be safe everywhere (Internet Explorer stopped at 2,083). latchkey proxy sends 32 characters (the return URL stays
 *   in its CSRF cookie), openid-client's randomState() 43.
 * - nonce: openid-client's randomNonce() and oauth2-proxy's are 43 characters; 512 is ten times that.
 * - login_hint: an email address is at most 254 characters (RFC 5321 §4.5.3.1.3 with §4.1.2), a
 *   username far less.
 * - acr_values: a few space-separated names or URIs; ui_locales, claims_locales: a few BCP 47
 *   language tags (RFC 5646 §4.4.1 suggests room for 35 characters per tag).
 * - id_token_hint: an ID token this provider signed; a user in many groups makes it longer than
 *   2,048, so only the whole query's bound applies.
 */
export const PARAMETER_MAX_CHARS: Readonly<Record<string, number>> = {
  state: 2048,
  nonce: 512,
  login_hint: 512,
  acr_values: 512,
  ui_locales: 256,
  claims_locales: 256,
  id_token_hint: AUTHORIZATION_QUERY_MAX_BYTES,
};

type OversizedWhole = { kind: 'whole'; part: 'query' | 'body'; bytes: number; maxBytes: number };
export type OversizedRequest = OversizedWhole | { kind: 'parameter'; parameter: string; chars: number; maxChars: number };

/** The first bound `query` (the URL's part after "?") passes, if any; the whole query's comes first. */
export function oversizedAuthorizationQuery(query: string): OversizedRequest | null {
  const bytes = Buffer.byteLength(query);
  if (bytes > AUTHORIZATION_QUERY_MAX_BYTES) return { kind: 'whole', part: 'query', bytes, maxBytes: AUTHORIZATION_QUERY_MAX_BYTES };
  // Every value of every name, known to the provider or not: a repeated parameter is refused by
  // oidc-provider, but only after this.
  for (const [parameter, value] of new URLSearchParams(query)) {
    const maxChars = Object.hasOwn(PARAMETER_MAX_CHARS, parameter) ? PARAMETER_MAX_CHARS[parameter] : OTHER_PARAMETER_MAX_CHARS;
    if (value.length > maxChars) return { kind: 'parameter', parameter, chars: value.length, maxChars };
  }
  return null;
}

/**
 * A POST body, by its Content-Length, before anyone reads it. oidc-provider reads the body of a
 * pushed authorization request (RFC 9126) itself, up to 56 KiB, and keeps its parameters for the
 * Interaction that /authorize?request_uri=… starts; without this bound a pushed request carried
 * what the query's bound refuses. A body without a length (chunked) cannot be judged unread, and no
 * client sends a form that way: it is refused too.
 */
export function oversizedBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): OversizedWhole | 'length_required' | null {
  const length = headers['content-length'];
  if (length === undefined) return headers['transfer-encoding'] === undefined ? null : 'length_required';
  const bytes = Number(length);
  return bytes > AUTHORIZATION_QUERY_MAX_BYTES ? { kind: 'whole', part: 'body', bytes, maxBytes: AUTHORIZATION_QUERY_MAX_BYTES } : null;
}

export type OversizedProviderRequest =
  | { endpoint: 'authorization'; oversized: OversizedRequest }
  | { endpoint: 'pushed_authorization_request'; oversized: OversizedWhole | 'length_required' };

/**
 * What to refuse of a request to the provider: an authorization request over the query's bounds,
 * a pushed authorization request over the body's; null for anything else. oidc-provider serves
 * the authorization endpoint to GET and HEAD only (enableHttpPostMethods is off; a POST is a 404,
 * oidc-authorize-limits.test.ts): were POST enabled, its body would need the bound too.
 */
export function oversizedProviderRequest(request: { method: string; url: string; headers: Parameters<typeof oversizedBody>[0] }): OversizedProviderRequest | null {
  const route = providerRouteOf(request.url);
  if (route === 'authorization' && (request.method === 'GET' || request.method === 'HEAD')) {
    const oversized = oversizedAuthorizationQuery(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '');
    return oversized ? { endpoint: route, oversized } : null;
  }
  if (route === 'pushed_authorization_request' && request.method === 'POST') {
    const oversized = oversizedBody(request.headers);
    return oversized ? { endpoint: route, oversized } : null;
  }
  return null;
}
