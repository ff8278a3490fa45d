import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { timingSafeEqualStrings } from '../core/crypto.ts';
import { randomToken } from '../core/random.ts';
import { wantsHtml } from './error-handler.ts';

// Two independent defences for every state-changing request made with cookies:
// 1. Origin / Sec-Fetch-Site must say the request came from our own pages (Fetch Metadata);
// 2. a double-submit token: a random cookie that a form field or the x-csrf-token header repeats.
// Either alone stops classic CSRF; both together survive a browser that omits one signal.

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CsrfOptions {
  origin: string;
  cookieName: string;
  secureCookies: boolean;
}

export function csrfTokenFor(request: FastifyRequest, reply: FastifyReply, options: CsrfOptions): string {
  const existing = request.cookies[options.cookieName];
  if (existing && /^[\w-]{43}$/.test(existing)) return existing;
  const token = randomToken(32);
  reply.setCookie(options.cookieName, token, { path: '/', httpOnly: true, sameSite: 'strict', secure: options.secureCookies });
  request.cookies[options.cookieName] = token;
  return token;
}

/**
 * Almost always an old form (its token cookie expired, or the browser was restarted), seldom a
 * form on another site. A browser gets a way back to the form (error-handler.ts shows `back`):
 * reloading the refused request would only send the stale form again.
 */
export function crossSiteRefused(request: FastifyRequest, options: CsrfOptions): AppError {
  if (!wantsHtml(request))
    return new AppError('cross_site_request', 403, 'This page expired for security reasons. Reload the page and try again.');
  return new AppError('cross_site_request', 403, 'This form expired for security reasons, so it was not sent. Go back, reload the form and send it again.',
    { details: { back: backToForm(request, options) } });
}

/** The page the form was on when the Referer says it is one of ours; else the home of its area. */
function backToForm(request: FastifyRequest, options: CsrfOptions): string {
  try {
    const referer = new URL(request.headers.referer ?? '');
    // "//host" would be a link to another site.
    if (referer.origin === options.origin && !/^\/[/\\]/.test(referer.pathname)) return referer.pathname + referer.search;
  } catch {
    // No Referer, or not a URL.
  }
  return request.url.startsWith('/admin') ? '/admin' : '/account';
}

/**
 * A page this server sent, but opened at another address than APP_URL (an IP address, another
 * host name): passkeys and these checks are bound to APP_URL, so say where to go instead of
 * suggesting a reload that cannot help. APP_URL is public (it is the OIDC issuer).
 */
export const wrongAddress = (appOrigin: string) =>
  new AppError('wrong_address', 403, `Sign-in works only at ${appOrigin}. Open ${appOrigin} and try again there.`);

/** Throws unless a state-changing request is provably from our own origin and carries the token. */
export function assertSameOrigin(request: FastifyRequest, options: CsrfOptions, body?: { csrf?: unknown }): void {
  if (SAFE_METHODS.has(request.method)) return;
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw crossSiteRefused(request, options);
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== options.origin) throw site === 'same-origin' ? wrongAddress(options.origin) : crossSiteRefused(request, options);
  if (site === undefined && origin === undefined) throw crossSiteRefused(request, options);
  const cookie = request.cookies[options.cookieName];
  const presented = (typeof body?.csrf === 'string' ? body.csrf : undefined) ?? request.headers['x-csrf-token'];
  if (!cookie || typeof presented !== 'string' || !timingSafeEqualStrings(cookie, presented)) throw crossSiteRefused(request, options);
}
