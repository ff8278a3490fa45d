// /oauth2/auth on plain node:http. nginx asks it before every protected file, so `latchkey proxy`
// answers it in front of fastify (authFastPath, wired in server.ts): same checkAuth, same answer
// as the fastify route in routes.ts (which serve mode and --metrics-address use; a test compares
// the two): 202, 401 or 403, never a redirect (nginx turns anything else into a 500).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { checkAuth } from './auth-check.ts';
import { peerOf } from './peer.ts';
import type { ProxyLogger, ProxyRuntime } from './proxy-runtime.ts';

export interface AuthAnswer {
  status: 202 | 401 | 403;
  headers: Record<string, string | number | string[]>;
}

/** The whole answer to one /oauth2/auth request, for either transport to write as it is. */
export async function authAnswer(rt: ProxyRuntime, req: { socket: { remoteAddress?: string }; headers: IncomingHttpHeaders; url?: string }, rawQuery: string, log: ProxyLogger = rt.logger): Promise<AuthAnswer> {
  let result;
  try {
    const host = rt.origin({ ...peerOf(req.socket), headers: req.headers, url: req.url ?? '/' }).host;
    result = await checkAuth(rt, { cookieHeader: req.headers.cookie, rawQuery, host });
  } catch (error) {
    // Fail closed, and still in a status nginx understands.
    log.error({ err: error }, 'auth check failed');
    return { status: 401, headers: { 'cache-control': 'no-store', 'content-length': 0 } };
  }
  const headers: AuthAnswer['headers'] = result.status === 202
    ? { 'cache-control': 'no-store', ...result.headers }
    : { 'cache-control': 'no-store' };
  if (result.setCookies.length) headers['set-cookie'] = result.setCookies;
  headers['content-length'] = 0;
  return { status: result.status, headers };
}

export async function answerAuthRequest(rt: ProxyRuntime, req: IncomingMessage, res: ServerResponse, rawQuery: string): Promise<void> {
  const answer = await authAnswer(rt, req, rawQuery);
  res.writeHead(answer.status, answer.headers).end();
}

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
