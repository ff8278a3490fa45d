// nginx's auth_request passes none of the auth answer's headers on by itself: the generated
// configuration copies them with auth_request_set, one header name at a time. Set-Cookie does not
// survive that when the answer has several lines: nginx 1.22 keeps only the first, and 1.23 and
// later join them into one value with ", ", which a browser reads as a single cookie. A refreshed
// split session (NAME_0, NAME_1, …) and the deletion of one both take several lines.
//
// So the auth answer also carries each Set-Cookie line in a header of its own,
// X-Latchkey-Set-Cookie-0, -1, …, which the generated configuration copies one by one
// (deploy/nginx-config.ts). Four: nginx refuses a Cookie header over 8k unless
// large_client_header_buffers is raised, so a session that reaches the proxy through it has at most
// two parts, and two parts plus the deletion of the unsplit name and of one stale part is four.
// Answers without cookies, every check between refreshes, carry none of these headers.

export const RELAYED_COOKIE_LINES = 4;

export const relayedCookieHeader = (index: number): string => `x-latchkey-set-cookie-${index}`;

/** Adds the relay headers for `lines` to `headers` (at most RELAYED_COOKIE_LINES of them). */
export function addRelayedCookies(headers: Record<string, unknown>, lines: readonly string[]): void {
  for (let i = 0; i < lines.length && i < RELAYED_COOKIE_LINES; i++) headers[relayedCookieHeader(i)] = lines[i];
}
