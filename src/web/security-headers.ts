import type { FastifyInstance } from 'fastify';
import { urlHoldsSecret } from '../core/url-secrets.ts';

// A strict policy: scripts and styles only from our own origin, no inline code, no framing.
// form-action allows http(s) targets because an OIDC authorization ends with a form or redirect
// to the client's registered redirect URI on another origin.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self' https: http:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function installSecurityHeaders(app: FastifyInstance, options: { hsts: boolean }): void {
  const headers: [string, string][] = [
    ['content-security-policy', CONTENT_SECURITY_POLICY],
    ['x-content-type-options', 'nosniff'],
    ['x-frame-options', 'DENY'],
    ['cross-origin-opener-policy', 'same-origin'],
    ...(options.hsts ? [['strict-transport-security', 'max-age=31536000'] as [string, string]] : []),
  ];
  // On the raw response as each request arrives, not in onSend: oidc-provider writes its responses
  // itself (src/oidc/routes.ts hijacks the reply), so onSend never sees them, and its sign-out
  // confirmation (whose button ends the session everywhere) must not load in a frame, nor its
  // error pages be sniffed. It adds its form_post script's hash to this script-src. fastify's own
  // replies carry these too (a route's reply.header of the same name, e.g. its own CSP, wins).
  app.addHook('onRequest', async (request, reply) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    reply.raw.setHeader('referrer-policy', referrerPolicyFor(request.url));
  });
}

/**
 * same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on form posts, which
 * the CSRF check must refuse; cross-origin requests get no referrer. A page whose own address
 * holds a secret (core/url-secrets.ts) gets strict-origin: it sends our origin alone as the Referer of
 * its stylesheet, script and form post, so the address reaches no access log that writes the
 * Referer (nginx's "combined", Caddy's request headers), and the Origin header stays.
 */
export const referrerPolicyFor = (url: string): string => (urlHoldsSecret(url) ? 'strict-origin' : 'same-origin');
