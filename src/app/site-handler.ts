// The site's origin in `latchkey serve`: the proxy's endpoints (/oauth2/*, ping, ready) go to its
// fastify app; every other request is the static edge's, and a request under a protected prefix
// is answered only after the proxy's own check (checkAuth, the code behind /oauth2/auth) said
// 202. A plain node:http handler, so the public-file hot path runs without a framework.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isCountedOutage } from '../core/outage-log.ts';
import { type AuthCheckResult, checkAuth, checkAuthNow } from '../proxy/auth-check.ts';
import { isNavigation } from '../proxy/navigation.ts';
import type { ProxyLogger, ProxyRuntime } from '../proxy/proxy-runtime.ts';
import type { ProtectedPrefix, Resolution, StaticSite } from '../edge/static-site.ts';
import { encodePathForLocation, splitAbsoluteForm } from '../edge/request-path.ts';
import { notAllowedPage, PROXY_PAGE_HEADERS } from '../proxy/pages.ts';
import { signedInName } from '../proxy/session.ts';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface SiteHandlerDeps {
  site: StaticSite;
  runtime: ProxyRuntime;
  /** The proxy's fastify app (`app.routing`). */
  proxy: RequestHandler;
  /** Answers /healthz (the identity provider's), so one health URL covers the process. */
  health: RequestHandler;
  /** RP-initiated logout at the provider (OIDC RP-Initiated Logout 1.0 §2), where /oauth2/sign_out continues. */
  endSessionUrl: string;
  logger: ProxyLogger;
}

const NO_STORE = 'private, no-store';

export function createSiteHandler(deps: SiteHandlerDeps): RequestHandler {
  const { site, runtime } = deps;
  const prefix = runtime.config.proxyPrefix;
  const signOutPath = `${prefix}/sign_out`;
  const underPrefix = `${prefix}/`;
  const proxyPaths = new Set([runtime.config.pingPath, runtime.config.readyPath]);
  // The group rule of each prefix, in the query form /oauth2/auth reads (ruleFor caches per query).
  const queries = new WeakMap<ProtectedPrefix, string>();
  const queryFor = (rule: ProtectedPrefix): string => {
    let query = queries.get(rule);
    if (query === undefined) {
      query = rule.allowedGroups.length ? new URLSearchParams({ allowed_groups: rule.allowedGroups.join(',') }).toString() : '';
      queries.set(rule, query);
    }
    return query;
  };

  function toProxy(req: IncomingMessage, res: ServerResponse, url: string, path: string): void {
    // Signing out of the site alone would be undone by the next visit (the provider still knows
    // the browser), so continue to the provider's sign-out, which ends both and comes back.
    if (path === signOutPath && !new URLSearchParams(url.slice(path.length + 1)).has('rd')) {
      req.url = `${signOutPath}?rd=${encodeURIComponent(deps.endSessionUrl)}`;
    }
    deps.proxy(req, res);
  }

  // Most checks are answered without waiting (checkAuthNow: a signed-in browser between
  // refreshes); the rest (a refresh, a cookie to delete, a Redis session) take checkAuth's promise.
  function guard(req: IncomingMessage, res: ServerResponse, resolution: Resolution & { kind: 'path' }, rule: ProtectedPrefix): void {
    let result;
    try {
      result = checkAuthNow(runtime, req.headers.cookie, queryFor(rule), req.socket);
    } catch (error) {
      return unavailable(res, error);
    }
    if (result !== undefined) return void admit(req, res, resolution, rule, result);
    // The host only matters for a Set-Cookie line's Domain, which only checkAuth writes.
    const host = runtime.origin({ remoteAddress: req.socket.remoteAddress, headers: req.headers, url: req.url ?? '/' }).host;
    checkAuth(runtime, { cookieHeader: req.headers.cookie, rawQuery: queryFor(rule), host })
      .then((later) => admit(req, res, resolution, rule, later), (error: unknown) => unavailable(res, error))
      .catch((error: unknown) => failed(res, error));
  }

  // Fail closed: nothing under the prefix without a definite yes. (A session store's outage is
  // logged by the store, not once per request: core/outage-log.ts.)
  function unavailable(res: ServerResponse, error: unknown): void {
    if (!isCountedOutage(error)) deps.logger.error({ err: error }, 'auth check failed');
    send(res, 503, { 'retry-after': '5' }, 'The sign-in service is not available right now. Please try again shortly.');
  }

  function failed(res: ServerResponse, error: unknown): void {
    deps.logger.error({ err: error }, 'protected request failed');
    if (!res.headersSent) send(res, 500, {}, 'Something went wrong.');
    else res.destroy();
  }

  function admit(req: IncomingMessage, res: ServerResponse, resolution: Resolution & { kind: 'path' }, rule: ProtectedPrefix, result: AuthCheckResult): Promise<void> | undefined {
    if (result.setCookies.length) res.setHeader('set-cookie', result.setCookies);
    if (result.status === 202) return site.serve(req, res, resolution);
    if (result.status === 403) {
      const session = result.session;
      // the proxy's page: who is signed in and how to switch, never which groups would be let in
      const here = encodePathForLocation(resolution.pathname) + resolution.query;
      const page = notAllowedPage({
        signedInAs: session ? signedInName(session) : 'someone else', signOutPath, siteHome: '/',
        // with rd, sign_out is the proxy's own (toProxy): the cookie goes, and this page signs in again
        signInAgainPath: `${signOutPath}?rd=${encodeURIComponent(here)}`,
      });
      // the proxy's page headers too (no framing, no script), as the proxy sends this page
      return send(res, 403, { ...PROXY_PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' }, page.value, req.method === 'HEAD');
    }
    // 401. A browser navigation starts sign-in and comes back to the same address; anything else
    // (an <img>, a script's fetch or POST, an API client) gets the status it can act on. Each
    // /oauth2/start sets its own CSRF cookie, so sending every image of a private gallery there
    // would pile up cookies until the browser's requests are too large to be answered (431).
    const start = `${prefix}/start?rd=${encodeURIComponent(encodePathForLocation(resolution.pathname) + resolution.query)}`;
    if ((req.method === 'GET' || req.method === 'HEAD') && isNavigation(req.headers)) return send(res, 302, { location: start }, '');
    // RFC 9110 §15.5.2: a 401 carries a challenge. No registered scheme describes a sign-in that
    // sets a cookie; this is the `Cookie` scheme of draft-broyer-http-cookie-auth, one realm per prefix.
    const challenge = `Cookie realm="${rule.prefix.replace(/["\\]/g, '\\$&')}", form-action="${start}", cookie-name="${runtime.config.cookie.name}"`;
    return send(res, 401, { 'www-authenticate': challenge }, 'Sign in first.', req.method === 'HEAD');
  }

  return function handleSite(req, res) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === prefix || path.startsWith(underPrefix) || proxyPaths.has(path)) return toProxy(req, res, url, path);
    if (path === '/healthz') return deps.health(req, res);
    const resolution = site.resolve(url);
    if (resolution.kind === 'path' && resolution.protection !== null) {
      try {
        guard(req, res, resolution, resolution.protection);
      } catch (error) {
        failed(res, error);
      }
      return;
    }
    void site.serve(req, res, resolution);
  };
}

/**
 * Lets `handler` serve absolute-form requests (`GET http://host/path`, which RFC 9112 §3.2.2 says a
 * server MUST accept, as nginx does): the target's authority replaces Host and its path becomes
 * the request's, written back once, in front of everything serve does, so that choosing the
 * provider or the site by host, protection, the proxy and every redirect read one and the same
 * path and host. A target that cannot be served (another scheme, userinfo, no host) is 400.
 */
export function acceptingAbsoluteForm(handler: RequestHandler): RequestHandler {
  return (req, res) => {
    const url = req.url ?? '/';
    if (url.charCodeAt(0) !== 0x2f /* "/" */) {
      const absolute = splitAbsoluteForm(url);
      if (absolute !== null) {
        if (!absolute.ok) return void send(res, 400, {}, `This address cannot be served: ${absolute.reason}.`, req.method === 'HEAD');
        req.url = absolute.originForm;
        req.headers.host = absolute.authority;
      }
    }
    return handler(req, res);
  };
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string, omitBody = false): undefined {
  const bytes = Buffer.from(body);
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    ...headers,
    'content-length': bytes.length,
    'cache-control': NO_STORE,
    'x-content-type-options': 'nosniff',
  });
  res.end(omitBody ? undefined : bytes);
  return undefined;
}

