// Every path that is not one of the proxy's own endpoints, in oauth2-proxy's proxy mode
// (oauthproxy.go, Proxy): a --skip-auth-route request goes straight to its upstream; any other
// needs a signed-in, allowed session. Without one, a browser gets the sign-in page with 403 (or,
// with --skip-provider-button, the redirect to the provider) and a program asking for JSON gets a
// 401, as oauth2-proxy does; a signed-in user outside the rules gets 403. Then the request goes to
// the upstream owning its path (upstream-router.ts): static://CODE, http(s):// or file://.
//
// WebSocket upgrades (--proxy-websockets, on by default as in oauth2-proxy) to a path an http(s)
// upstream owns pass the same check and get the same headers, and are then joined to the
// upstream (http-upstream.ts). A refused one gets a bare 401 or 403, since a WebSocket cannot
// follow a sign-in page. Any other upgrade is an ordinary request here, its Upgrade header dropped.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError, badRequest, forbidden, unauthorized } from '../core/errors.ts';
import { isCountedOutage } from '../core/outage-log.ts';
import { urlForLog } from '../core/url-secrets.ts';
import { toAppError } from '../web/error-handler.ts';
import { checkAuth } from './auth-check.ts';
import type { Upstream } from './config.ts';
import type { FileUpstream } from './file-upstream.ts';
import { createHttpUpstream, type HttpUpstream } from './http-upstream.ts';
import { isNavigation } from './navigation.ts';
import { signInPage } from './pages.ts';
import { matchesSkipRoute } from './skip-auth.ts';
import { peerOf } from './peer.ts';
import type { ProxyRuntime } from './proxy-runtime.ts';
import { type Session, signedInName } from './session.ts';
import { type BrowserRequest, findRedirect, type FlowResult, startSignIn } from './sign-in.ts';
import { type UpstreamPath, upstreamPathOf } from './upstream-path.ts';
import { upstreamRequestHeaders } from './upstream-request-headers.ts';
import { createUpstreamRouter } from './upstream-router.ts';
import { answerAndClose, isWebSocketUpgrade } from './upgrade-socket.ts';

/** What routes.ts already has for the sign-in flows, passed in rather than written twice. */
export interface FlowHelpers {
  browserRequest(request: FastifyRequest): BrowserRequest;
  flow(request: FastifyRequest, reply: FastifyReply, run: () => Promise<FlowResult>): Promise<unknown>;
  notAllowed(request: FastifyRequest, reply: FastifyReply, error: AppError, signedInAs: string, returnTo?: string): unknown;
}

/**
 * oauth2-proxy's isAjax: one of the Accept media types is exactly application/json. Such a
 * request cannot follow a sign-in page, so it gets a bare 401.
 */
function wantsJsonOnly(accept: string | string[] | undefined): boolean {
  const values = Array.isArray(accept) ? accept : accept === undefined ? [] : [accept];
  return values.some((value) => value.split(',').some((type) => type.trim() === 'application/json'));
}

const NOT_ALLOWED = 'This account is not allowed here.';

type UpgradeDecidingServer = Server & { shouldUpgradeCallback(req: IncomingMessage): boolean };

const badPath = (target: Exclude<UpstreamPath, { kind: 'checked' }>) =>
  badRequest('bad_path', target.kind === 'invalid' ? `This address cannot be served: ${target.reason}.` : 'This address is not in its clean form.');

const pathOf = (url: string): string => {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
};

export function upstreamRoutes(rt: ProxyRuntime, helpers: FlowHelpers) {
  const { config } = rt;
  const route = createUpstreamRouter(config.upstreams);
  const httpUpstreams = new Map<Upstream, HttpUpstream>();
  const fileUpstreams = new Map<Upstream, FileUpstream>();
  for (const upstream of config.upstreams) {
    if (upstream.kind === 'http') httpUpstreams.set(upstream, createHttpUpstream(upstream.url, { timeoutMs: config.upstreamTimeoutSeconds * 1000 }));
  }
  // The static edge (file:// upstreams) is loaded only when one is configured: it needs
  // node:fs/promises, which a forward-auth proxy does without (docs/benchmarks.md, lever 34).
  const openFileUpstreams = async () => {
    const files = config.upstreams.filter((upstream) => upstream.kind === 'file');
    if (!files.length) return;
    const { createFileUpstream } = await import('./file-upstream.ts');
    for (const upstream of files) {
      fileUpstreams.set(upstream, createFileUpstream(upstream.directory, upstream.path,
        (error, req) => rt.logger.error({ err: error, url: urlForLog(req.url) }, 'file upstream failed')));
    }
  };

  /**
   * Where a request stands before any upstream sees it: who sent it, and the auth check (null on a
   * --skip-auth-route). A path that is not in its clean form never gets this far (upstream-path.ts).
   */
  const admit = async (req: IncomingMessage, path: string, matchPath: string) => {
    const url = req.url ?? '/';
    const peer = peerOf(req.socket);
    const origin = rt.origin({ ...peer, headers: req.headers, url });
    const skip = matchesSkipRoute(config.skipAuthRoutes, req.method, matchPath);
    const result = skip ? null : await checkAuth(rt, { cookieHeader: req.headers.cookie, rawQuery: '', host: origin.host });
    return { path, peer, origin, result, setCookies: result?.setCookies ?? [] };
  };

  // Not signed in, or not allowed: never reaches an upstream. A 401 that names a session is one
  // the configured rules refuse, now deleted: a 403 page here, as oauth2-proxy's Proxy answers
  // ErrAccessDenied (its refusal page, after clearing the session).
  const refuse = (request: FastifyRequest, reply: FastifyReply, status: 401 | 403, session: Session | null) => {
    reply.header('cache-control', 'no-store');
    if (status === 403 || session !== null) {
      if (!session) throw forbidden(NOT_ALLOWED); // a 403 always comes with the refused session
      // back to where a sign-in from here would return (validated), with the groups the provider has now
      return helpers.notAllowed(request, reply, forbidden(NOT_ALLOWED), signedInName(session), findRedirect(rt, helpers.browserRequest(request)));
    }
    if (wantsJsonOnly(request.headers.accept)) throw unauthorized();
    const browser = helpers.browserRequest(request);
    if (config.skipProviderButton) {
      if (!isNavigation(request.headers)) throw unauthorized(); // an <img> cannot follow a sign-in (navigation.ts)
      return helpers.flow(request, reply, () => startSignIn(rt, browser));
    }
    const page = signInPage({ startPath: `${config.proxyPrefix}/start`, redirect: findRedirect(rt, browser) });
    return reply.code(403).type('text/html; charset=utf-8').send(page.value);
  };

  const underPrefix = `${config.proxyPrefix}/`;
  const staticFolder = `${config.proxyPrefix}/static/`;
  /**
   * What the proxy answers itself at a path of its own instead of sending it to the upstream, as
   * oauth2-proxy's router does: one of its endpoints asked with a method it does not take gets 405
   * (oauth2-proxy routes its endpoints for every method, so none reaches the application), and its
   * static folder (--proxy-prefix/static/, oauth2-proxy's stylesheets; latchkey has none) a 404.
   * Any other path under --proxy-prefix goes on to the sign-in check and the upstream, as in
   * oauth2-proxy, whose prefix subrouter falls through to its catch-all (gorilla/mux).
   */
  const ownPathAnswer = (app: FastifyInstance, path: string): { status: 404 } | { status: 405; allow: string } | null => {
    if (path.startsWith(staticFolder)) return { status: 404 };
    if (!path.startsWith(underPrefix) && path !== config.proxyPrefix && path !== config.pingPath && path !== config.readyPath) return null;
    const allowed = (['GET', 'POST'] as const).filter((method) => {
      const found = app.findRoute({ method, url: path });
      return found !== null && !('*' in found.params);
    });
    if (allowed.length === 0) return null;
    return { status: 405, allow: (allowed[0] === 'GET' ? ['GET', 'HEAD', ...allowed.slice(1)] : allowed).join(', ') };
  };

  /** The http(s) upstream a WebSocket upgrade would go to; null makes it an ordinary request. */
  const webSocketUpstream = (app: FastifyInstance, req: IncomingMessage): HttpUpstream | null => {
    if (!isWebSocketUpgrade(req.method, req.headers)) return null;
    const path = pathOf(req.url ?? '/');
    // Only a path fastify would give to the catch-all route below (the one route with a wildcard
    // parameter): the proxy's own endpoints (--proxy-prefix, --ping-path, …) are never upgraded.
    const found = app.findRoute({ method: 'GET', url: path });
    if (!found || !('*' in found.params) || ownPathAnswer(app, path) !== null) return null;
    const match = route(path);
    return match.kind === 'upstream' ? httpUpstreams.get(match.upstream) ?? null : null;
  };

  const upgradeWebSocket = async (app: FastifyInstance, req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // node:http leaves this socket to us: a reset before anything is joined must not crash the proxy
    socket.on('error', () => socket.destroy());
    try {
      const upstream = webSocketUpstream(app, req);
      if (!upstream) throw new Error(`${urlForLog(req.url)} was accepted as an upgrade but has no http upstream`);
      // a WebSocket client does not follow redirects, so an unclean path is refused outright
      const target = upstreamPathOf(req.url ?? '/');
      if (target.kind !== 'checked') throw badPath(target);
      const { peer, origin, result, setCookies } = await admit(req, target.path, target.matchPath);
      if (result && result.status !== 202) {
        const refusal = result.status === 403 || result.session !== null ? forbidden(NOT_ALLOWED) : unauthorized();
        return answerAndClose(socket, refusal.status, refusal.message, setCookies.length ? { 'set-cookie': setCookies } : {});
      }
      const headers = upstreamRequestHeaders(config, req.headers, { remoteAddress: peer.remoteAddress, origin }, result?.session ?? null);
      upstream.upgrade(req, socket, head, { headers, setCookies, responseHeaders: result?.headers ?? {} });
    } catch (thrown) {
      const error = toAppError(thrown);
      if (error.status >= 500 && !isCountedOutage(error)) rt.logger.error({ err: error.cause ?? error, url: urlForLog(req.url) }, 'WebSocket upgrade failed');
      answerAndClose(socket, error.status, error.message);
    }
  };

  /** --proxy-websockets: node:http hands accepted upgrades to the 'upgrade' event instead of fastify. */
  const acceptWebSockets = (app: FastifyInstance) => {
    const open = new Set<Duplex>();
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      void upgradeWebSocket(app, req, socket, head);
    };
    // node:http (24.9+) reads its shouldUpgradeCallback option from the server object for each
    // request, so it can be set on the server fastify made; @types/node knows only the option.
    (app.server as UpgradeDecidingServer).shouldUpgradeCallback = (req) => webSocketUpstream(app, req) !== null;
    app.server.on('upgrade', onUpgrade);
    // preClose, before the server's close(), which would wait for these sockets to end
    app.addHook('preClose', async () => {
      app.server.off('upgrade', onUpgrade);
      for (const socket of open) socket.destroy();
    });
  };

  return async function plugin(app: FastifyInstance) {
    await openFileUpstreams();
    if (config.proxyWebsockets) acceptWebSockets(app);
    // Bodies stay unread streams here, to be piped to the upstream as they arrive.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));
    app.addHook('onClose', async () => {
      for (const upstream of httpUpstreams.values()) upstream.close();
      for (const upstream of fileUpstreams.values()) upstream.close();
    });

    app.all('/*', async (request, reply) => {
      const target = upstreamPathOf(request.url);
      if (target.kind === 'redirect') return reply.header('cache-control', 'no-store').redirect(target.location, 301);
      if (target.kind === 'invalid') throw badPath(target);
      const own = ownPathAnswer(app, target.path);
      if (own?.status === 404) throw new AppError('not_found', 404, 'There is nothing at this address.');
      if (own?.status === 405) {
        reply.header('allow', own.allow).header('cache-control', 'no-store');
        throw new AppError('method_not_allowed', 405, 'This address does not take this method.');
      }
      const { path, peer, origin, result, setCookies } = await admit(request.raw, target.path, target.matchPath);
      if (setCookies.length) reply.header('set-cookie', setCookies);
      if (result && result.status !== 202) return refuse(request, reply, result.status, result.session);

      // oauth2-proxy adds its response headers (--set-xauthrequest, --set-authorization-header) here too
      const responseHeaders = result?.headers ?? {};
      const match = route(path);
      if (match.kind === 'none') throw new AppError('not_found', 404, 'There is nothing at this address.');
      if (match.kind === 'add-slash') return reply.redirect(`${path}/${request.url.slice(path.length)}`, 301);
      const upstream = match.upstream;
      if (upstream.kind === 'static') {
        return reply.code(upstream.statusCode).headers(responseHeaders).header('cache-control', 'no-store').type('text/plain').send('Authenticated');
      }
      const file = fileUpstreams.get(upstream);
      if (file) {
        reply.hijack();
        if (setCookies.length) reply.raw.setHeader('set-cookie', setCookies);
        for (const [name, value] of Object.entries(responseHeaders)) reply.raw.setHeader(name, value);
        return file.serve(request.raw, reply.raw);
      }
      const headers = upstreamRequestHeaders(config, request.headers, { remoteAddress: peer.remoteAddress, origin }, result?.session ?? null);
      return httpUpstreams.get(upstream)!.forward(request.raw, reply.raw, { headers, setCookies, responseHeaders, beforeResponse: () => reply.hijack() });
    });
  };
}
