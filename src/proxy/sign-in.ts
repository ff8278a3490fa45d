// The browser-facing flows as plain functions: start (→ provider), callback (→ session), sign-out.
// Each returns where to send the browser and the Set-Cookie lines; routes.ts only writes them.
import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from '../core/errors.ts';
import { randomToken } from '../core/random.ts';
import { refusalReason, ruleWithQuery } from './access-rule.ts';
import { isCrossSite, isOriginOfSite } from './cross-site.ts';
import { isNavigation } from './navigation.ts';
import { isRefusal } from './oidc-client.ts';
import type { ProxyRuntime } from './proxy-runtime.ts';
import { validateRedirect } from './redirect.ts';
import type { RequestOrigin } from './request-origin.ts';
import { sessionFromTokens } from './session-from-tokens.ts';
import { signedInName } from './session.ts';

export interface BrowserRequest {
  origin: RequestOrigin;
  headers: IncomingHttpHeaders;
  sent: ReadonlyMap<string, string>;
  query: URLSearchParams;
  /** An application/x-www-form-urlencoded body's fields (a POST to sign_out), else undefined. */
  form?: URLSearchParams;
}

export interface FlowResult {
  location: string;
  setCookies: string[];
}

/** A refused flow: the error to show, and cookies to clear anyway. */
export class FlowError extends Error {
  readonly error: AppError;
  readonly setCookies: string[];
  constructor(error: AppError, setCookies: string[]) {
    super(error.message, { cause: error });
    this.error = error;
    this.setCookies = setCookies;
  }
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

const isOwnEndpoint = (rt: ProxyRuntime, uri: string): boolean =>
  uri === rt.config.proxyPrefix || uri.startsWith(`${rt.config.proxyPrefix}/`) || uri.startsWith(`${rt.config.proxyPrefix}?`);

/**
 * X-Auth-Request-Redirect, unless it names one of the proxy's own endpoints. nginx's
 * `proxy_set_header X-Auth-Request-Redirect $request_uri` in `location /oauth2/` (oauth2-proxy's
 * documented configuration) names the endpoint itself when the browser opens it directly, and
 * returning there loops: /oauth2/sign_out → /oauth2/sign_out (oauth2-proxy issue #2613).
 */
function headerRedirect(rt: ProxyRuntime, headers: IncomingHttpHeaders): string | undefined {
  const value = header(headers, 'x-auth-request-redirect');
  if (!value) return undefined;
  let path = value;
  if (!value.startsWith('/')) {
    try {
      path = new URL(value).pathname;
    } catch {
      return value; // not a URL: validateRedirect refuses it
    }
  }
  return isOwnEndpoint(rt, path) ? undefined : value;
}

/**
 * Where to go after sign-in, the way oauth2-proxy's app director finds it: the `rd` parameter,
 * then X-Auth-Request-Redirect (nginx sets it to $request_uri for `error_page 401 = /oauth2/sign_in`;
 * ignored when it names the proxy's own endpoints),
 * then X-Forwarded-Proto/Host/Uri from a trusted proxy, then the request URI itself unless it is
 * one of the proxy's own endpoints. The first candidate that passes validateRedirect wins.
 */
export function findRedirect(rt: ProxyRuntime, request: BrowserRequest): string {
  const context = { requestHost: request.origin.host, whitelistDomains: rt.config.whitelistDomains };
  const ownEndpoint = (uri: string) => isOwnEndpoint(rt, uri);
  const candidates = [request.query.get('rd'), headerRedirect(rt, request.headers)];
  if (request.origin.proxied) {
    const uri = ownEndpoint(request.origin.uri) ? '/' : request.origin.uri;
    if (request.origin.host) candidates.push(`${request.origin.scheme}://${request.origin.host}${uri}`);
    candidates.push(uri);
  } else if (!ownEndpoint(request.origin.uri)) {
    candidates.push(request.origin.uri);
  }
  for (const candidate of candidates) {
    if (!candidate) continue;
    const safe = validateRedirect(candidate, context);
    if (safe !== '/' || candidate === '/') return safe;
  }
  return '/';
}

/**
 * The redirect_uri, as oauth2-proxy's getOAuthRedirectURI builds it: --redirect-url as it is when
 * it names a host; otherwise (unset, or a path such as /oauth2/callback) that path, or
 * --proxy-prefix/callback, at the request's host, over https whenever the cookie is Secure
 * (--cookie-secure, the default). Not every proxy in front sends X-Forwarded-Proto, and a browser
 * that came back over http would not send the Secure CSRF cookie anyway.
 */
export function callbackUrl(rt: ProxyRuntime, origin: RequestOrigin): string {
  const configured = rt.config.redirectUrl;
  if (configured !== null && !configured.startsWith('/')) return configured;
  const scheme = rt.config.cookie.secure ? 'https' : origin.scheme;
  return `${scheme}://${origin.host}${configured ?? `${rt.config.proxyPrefix}/callback`}`;
}

/**
 * /oauth2/start: remember this attempt in the CSRF cookie, go to the provider.
 *
 * A session the browser holds is left as it is, as oauth2-proxy's OAuthStart leaves it: the
 * callback replaces it with the new one (and deletes parts of a split cookie, or shortens the old
 * Redis ticket, that it no longer uses). Deleting it here let any other website sign its visitors
 * out with a link or an <img>, which /oauth2/sign_out refuses (cross-site.ts).
 *
 * Only a navigation can follow a sign-in (navigation.ts): anything else gets a 401 and no CSRF
 * cookie, as at /oauth2/sign_in, and so does every caller (the sign-in page, --skip-provider-button).
 */
export async function startSignIn(rt: ProxyRuntime, request: BrowserRequest): Promise<FlowResult> {
  if (!isNavigation(request.headers)) throw new FlowError(notANavigation(), []);
  const attrs = rt.cookieAttributes(request.origin.host);
  const attempt = {
    state: randomToken(24),
    nonce: randomToken(24),
    codeVerifier: randomToken(48),
    redirect: findRedirect(rt, request),
    expiresAt: rt.nowSeconds() + rt.config.cookie.csrfExpireSeconds,
  };
  const location = await rt.oidc.authorizationUrl({ redirectUri: callbackUrl(rt, request.origin), state: attempt.state, nonce: attempt.nonce, codeVerifier: attempt.codeVerifier });
  return { location, setCookies: [rt.csrf.write(attempt, attrs, rt.clock.nowMs())] };
}

const notANavigation = () =>
  new AppError('unauthorized', 401, 'Signing in starts from a page you open, not from an image or a script.');

/** /oauth2/callback: check the CSRF cookie, redeem the code, apply the rules, issue a fresh session. */
export async function finishSignIn(rt: ProxyRuntime, request: BrowserRequest): Promise<FlowResult> {
  const attrs = rt.cookieAttributes(request.origin.host);
  const state = request.query.get('state') ?? '';
  const clearCsrf = state ? [rt.csrf.clear(state, attrs)] : [];
  const fail = (error: AppError) => new FlowError(error, clearCsrf);

  const providerError = request.query.get('error');
  if (providerError) {
    throw fail(new AppError('provider_error', 403, `The identity provider did not sign you in (${providerError.slice(0, 64)}). Please try again.`));
  }
  const attempt = rt.csrf.read(request.sent, state, rt.nowSeconds());
  if (!attempt) {
    throw fail(new AppError('csrf_mismatch', 403, 'This sign-in did not start in this browser, or took too long. Please start again.'));
  }
  // The CSRF cookie is deleted by this response; a replay with a copy of it still finds the state
  // used: with a Redis session store at every instance, and in this process's memory. The shared
  // claim comes first: when Redis cannot be reached nothing is marked used and the CSRF cookie is
  // kept, so reloading the page finishes the sign-in once Redis is back.
  const ttlSeconds = rt.config.cookie.csrfExpireSeconds;
  let claimed: boolean;
  try {
    claimed = await rt.sessions.claimState(attempt.state, ttlSeconds);
  } catch (error) {
    throw new FlowError(new AppError('store_unavailable', 503, 'Signing in cannot be finished right now. Please reload this page in a moment.', { cause: error }), []);
  }
  if (!claimed || !rt.usedStates.add(attempt.state, ttlSeconds)) {
    throw fail(new AppError('state_reused', 403, 'This sign-in response was already used. Please start again.'));
  }

  const redirectUri = callbackUrl(rt, request.origin);
  const current = new URL(redirectUri);
  current.search = request.query.toString();
  let session;
  try {
    const tokens = await rt.oidc.exchangeCode(current, { redirectUri, state: attempt.state, nonce: attempt.nonce, codeVerifier: attempt.codeVerifier });
    session = sessionFromTokens(rt.config, tokens, rt.nowSeconds());
  } catch (error) {
    if (error instanceof AppError) throw fail(error);
    if (isRefusal(error)) {
      rt.logger.info({ err: error }, 'sign-in response refused');
      throw fail(new AppError('sign_in_failed', 403, 'The sign-in could not be completed. Please start again.', { cause: error }));
    }
    throw fail(new AppError('provider_unavailable', 502, 'The identity provider could not be reached to finish signing in. Please try again.', { cause: error }));
  }

  const reason = refusalReason(session, ruleWithQuery(rt.baseRule, null));
  if (reason) {
    rt.logger.info({ sub: session.sub, reason }, 'sign-in refused by access rules');
    const signedInAs = signedInName(session);
    throw fail(new AppError('not_allowed', 403, `You signed in as ${signedInAs}, but that account is not allowed here.`, { details: { signedInAs } }));
  }

  const location = validateRedirect(attempt.redirect, { requestHost: request.origin.host, whitelistDomains: rt.config.whitelistDomains });
  const sessionCookies = await rt.sessions.write(session, attrs, rt.config.cookie.expireSeconds, rt.clock.nowMs(), request.sent);
  return { location, setCookies: [...clearCsrf, ...sessionCookies] };
}

/** A sign-out that happened, or one asked from another site that the visitor must confirm first. */
export type SignOutResult = ({ kind: 'signed_out' } & FlowResult) | { kind: 'confirm'; target: string };

/**
 * /oauth2/sign_out: delete the session cookies, go to a validated rd (or '/'). rd is read as
 * oauth2-proxy reads req.Form: a form body's first (a sign-out form's hidden field), then the
 * query's, then X-Auth-Request-Redirect; each passes the same validateRedirect. Asked from another
 * site (cross-site.ts), nothing is deleted: the visitor is asked first, with the same validated
 * target, by a form that posts here from this site's own page (routes.ts).
 */
export async function signOut(rt: ProxyRuntime, request: BrowserRequest): Promise<SignOutResult> {
  const context = { requestHost: request.origin.host, whitelistDomains: rt.config.whitelistDomains };
  const rd = request.form?.get('rd') || request.query.get('rd') || headerRedirect(rt, request.headers) || null;
  const location = validateRedirect(rd, { ...context, providerLogout: rt.oidc.endSessionEndpoint });
  if (isCrossSite(request.headers, (origin) => isOriginOfSite(origin, context))) return { kind: 'confirm', target: location };
  const attrs = rt.cookieAttributes(request.origin.host);
  return { kind: 'signed_out', location, setCookies: await rt.sessions.clear(attrs, request.sent) };
}
