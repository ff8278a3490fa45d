// /oauth2/auth on plain node:http. nginx asks it before every protected file, so `latchkey proxy`
// answers it in front of fastify (authFastPath, wired in server.ts): same checkAuth, same answer
// as the fastify route in routes.ts (which serve mode and --metrics-address use; a test compares
// the two): 202, 401 or 403, never a redirect (nginx turns anything else into a 500).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { type AuthCheckResult, checkAuth, checkAuthNow } from './auth-check.ts';
import { peerOf } from './peer.ts';
import type { ProxyLogger, ProxyRuntime } from './proxy-runtime.ts';

export interface AuthAnswer {
  status: 202 | 401 | 403;
  headers: Record<string, string | number | string[]>;
}

type AuthRequest = { socket: { remoteAddress?: string }; headers: IncomingHttpHeaders; url?: string };

/** The whole answer to one /oauth2/auth request, for either transport to write as it is. */
export async function authAnswer(rt: ProxyRuntime, req: AuthRequest, rawQuery: string, log: ProxyLogger = rt.logger): Promise<AuthAnswer> {
  const now = authAnswerNow(rt, req, rawQuery, log);
  if (now !== undefined) return now;
  let result;
  try {
    const host = rt.origin({ ...peerOf(req.socket), headers: req.headers, url: req.url ?? '/' }).host;
    result = await checkAuth(rt, { cookieHeader: req.headers.cookie, rawQuery, host });
  } catch (error) {
    return failedClosed(log, error);
  }
  return answerOf(result);
}

/** The same answer without waiting, when checkAuthNow has it (a cookie session between refreshes); undefined: ask authAnswer(). */
export function authAnswerNow(rt: ProxyRuntime, req: AuthRequest, rawQuery: string, log: ProxyLogger = rt.logger): AuthAnswer | undefined {
  let result;
  try {
    // The socket: nginx keeps its connections to the proxy open, and one often carries the same Cookie header again.
    result = checkAuthNow(rt, req.headers.cookie, rawQuery, req.socket);
  } catch (error) {
    return failedClosed(log, error);
  }
  return result === undefined ? undefined : answerOf(result);
}

function answerOf(result: AuthCheckResult): AuthAnswer {
  const headers: AuthAnswer['headers'] = result.status === 202
    ? { 'cache-control': 'no-store', ...result.headers }
    : { 'cache-control': 'no-store' };
  if (result.setCookies.length) headers['set-cookie'] = result.setCookies;
  headers['content-length'] = 0;
  return { status: result.status, headers };
}

// Fail closed, and still in a status nginx understands.
function failedClosed(log: ProxyLogger, error: unknown): AuthAnswer {
  log.error({ err: error }, 'auth check failed');
  return { status: 401, headers: { 'cache-control': 'no-store', 'content-length': 0 } };
}

/** Writes the answer, within the request's own tick when it needs no I/O. */
export function answerAuthRequest(rt: ProxyRuntime, req: IncomingMessage, res: ServerResponse, rawQuery: string): Promise<void> {
  const now = authAnswerNow(rt, req, rawQuery);
  if (now !== undefined) {
    res.writeHead(now.status, now.headers).end();
    return DONE;
  }
  return authAnswer(rt, req, rawQuery).then((answer) => void res.writeHead(answer.status, answer.headers).end());
}

const DONE: Promise<void> = Promise.resolve();

/**
 * A request listener's front door: answers GET/HEAD `authPath` (any query) itself and returns
 * true; returns false for anything else, which the caller hands to fastify.
 */
export function authFastPath(rt: ProxyRuntime, authPath: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
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
