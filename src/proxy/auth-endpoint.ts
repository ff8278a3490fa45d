// /oauth2/auth on plain node:http. nginx asks it before every protected file, so `latchkey proxy`
// answers it in front of fastify (authFastPath, wired in server.ts): same checkAuth, same answer
// as the fastify route in routes.ts (which serve mode and --metrics-address use; a test compares
// the two): 202, 401 or 403, never a redirect (nginx turns anything else into a 500).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { isCountedOutage } from '../core/outage-log.ts';
import { type AuthCheckResult, checkAuth, checkAuthNow } from './auth-check.ts';
import { peerOf } from './peer.ts';
import type { ProxyLogger, ProxyRuntime } from './proxy-runtime.ts';
import { skipsAuth } from './skip-auth.ts';
import { addRelayedCookies } from './relayed-cookies.ts';

export interface AuthAnswer {
  status: 202 | 401 | 403;
  headers: Record<string, string | number | string[]>;
}

type AuthRequest = { socket: { remoteAddress?: string }; headers: IncomingHttpHeaders; url?: string; method?: string };

/** The whole answer to one /oauth2/auth request, for either transport to write as it is. */
export async function authAnswer(rt: ProxyRuntime, req: AuthRequest, rawQuery: string, log: ProxyLogger = rt.logger): Promise<AuthAnswer> {
  const skipAuth = onSkipAuthRoute(rt, req);
  return answerNow(rt, req, rawQuery, log, skipAuth) ?? answerLater(rt, req, rawQuery, log, skipAuth);
}

/** The same answer without waiting, when checkAuthNow has it (a cookie session between refreshes); undefined: ask answerLater(). */
function answerNow(rt: ProxyRuntime, req: AuthRequest, rawQuery: string, log: ProxyLogger, skipAuth: boolean): AuthAnswer | undefined {
  let result;
  try {
    // The socket: nginx keeps its connections to the proxy open, and one often carries the same Cookie header again.
    result = checkAuthNow(rt, req.headers.cookie, rawQuery, req.socket, skipAuth);
  } catch (error) {
    return failedClosed(log, error);
  }
  return result === undefined ? undefined : answerOf(result);
}

async function answerLater(rt: ProxyRuntime, req: AuthRequest, rawQuery: string, log: ProxyLogger, skipAuth: boolean): Promise<AuthAnswer> {
  let result;
  try {
    const host = rt.origin({ ...peerOf(req.socket), headers: req.headers, url: req.url ?? '/' }).host;
    result = await checkAuth(rt, { cookieHeader: req.headers.cookie, rawQuery, host, skipAuth });
  } catch (error) {
    return failedClosed(log, error);
  }
  return answerOf(result);
}

/**
 * Whether the browser asked for a --skip-auth-route path. oauth2-proxy's AuthOnly checks its skip
 * routes too (oauthproxy.go getAuthenticatedSession → IsAllowedRequest → isAllowedRoute), against
 * requestutil.GetRequestPath: X-Forwarded-Uri when forwarded headers are trusted, else this
 * request's own URI. No work at all without skip routes, the usual case.
 */
function onSkipAuthRoute(rt: ProxyRuntime, req: AuthRequest): boolean {
  const routes = rt.config.skipAuthRoutes;
  if (routes.length === 0) return false;
  const origin = rt.origin({ ...peerOf(req.socket), headers: req.headers, url: req.url ?? '/' });
  // oauth2-proxy compares a METHOD= route with this request's own method, which Caddy and Traefik
  // always send as GET; the browser's (X-Forwarded-Method, from a trusted proxy) is checked instead
  // when given, so GET=^/files/ does not also let a DELETE of /files/x through.
  const forwardedMethod = origin.proxied ? req.headers['x-forwarded-method'] : undefined;
  const method = typeof forwardedMethod === 'string' && forwardedMethod !== '' ? forwardedMethod.trim().toUpperCase() : req.method;
  return skipsAuth(routes, method, origin.uri);
}

function answerOf(result: AuthCheckResult): AuthAnswer {
  const headers: AuthAnswer['headers'] = result.status === 202
    ? { 'cache-control': 'no-store', ...result.headers }
    : { 'cache-control': 'no-store' };
  // A 202 without a session lets a --skip-auth-route request through: it holds for that method and
  // path only, not for the credentials, so the auth-decision cache nginx keys by credentials
  // (latchkey generate nginx --auth-cache) must never store it, or every protected path would open
  // to the same Cookie header for the cache time. nginx's own "do not cache" header: the generated
  // proxy_cache honours it (it ignores Cache-Control, sent on every answer), the Lua engine reads it.
  if (result.status === 202 && result.session === null) headers['x-accel-expires'] = 0;
  if (result.setCookies.length) {
    headers['set-cookie'] = result.setCookies;
    addRelayedCookies(headers, result.setCookies);
  }
  headers['content-length'] = 0;
  return { status: result.status, headers };
}

// Fail closed, and still in a status nginx understands. A check that failed because Redis is away
// is not logged here: the session store's outage log counts those (redis-session-store.ts), as
// one line per check would be thousands a second under load.
function failedClosed(log: ProxyLogger, error: unknown): AuthAnswer {
  if (!isCountedOutage(error)) log.error({ err: error }, 'auth check failed');
  return { status: 401, headers: { 'cache-control': 'no-store', 'content-length': 0 } };
}

/** Writes the answer, within the request's own tick when it needs no I/O. */
export function answerAuthRequest(rt: ProxyRuntime, req: IncomingMessage, res: ServerResponse, rawQuery: string): Promise<void> {
  const skipAuth = onSkipAuthRoute(rt, req);
  const now = answerNow(rt, req, rawQuery, rt.logger, skipAuth);
  if (now !== undefined) {
    res.writeHead(now.status, now.headers).end();
    return DONE;
  }
  return answerLater(rt, req, rawQuery, rt.logger, skipAuth).then((answer) => void res.writeHead(answer.status, answer.headers).end());
}

const DONE: Promise<void> = Promise.resolve();

/**
 * A request listener's front door: answers `authPath` (any query, any method) itself and returns
 * true; returns false for anything else, which the caller hands to fastify. Every method, as
 * oauth2-proxy routes it (oauthproxy.go buildServeMux: r.Path(…/auth), no .Methods): a POST must
 * not reach the upstream catch-all, which knows nothing of the query's allowed_groups. A body is
 * never read; node:http discards it once the answer is sent.
 */
export function authFastPath(rt: ProxyRuntime, authPath: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if ((q < 0 ? url : url.slice(0, q)) !== authPath) return false;
    answerAuthRequest(rt, req, res, q < 0 ? '' : url.slice(q + 1)).catch((error: unknown) => {
      rt.logger.error({ err: error }, 'auth answer failed');
      res.destroy();
    });
    return true;
  };
}
