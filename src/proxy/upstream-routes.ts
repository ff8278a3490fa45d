// Every path that is not one of the proxy's own endpoints, in oauth2-proxy's proxy mode
// (oauthproxy.go, Proxy): a --skip-auth-route request goes straight to its upstream; any other
// needs a signed-in, allowed session. Without one, a browser gets the sign-in page with 403 (or,
// with --skip-provider-button, the redirect to the provider) and a program asking for JSON gets a
// 401, as oauth2-proxy does; a signed-in user outside the rules gets 403. Then the request goes to
// the upstream owning its path (upstream-router.ts): static://CODE, http(s):// or file://.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { checkAuth } from './auth-check.ts';
import type { Upstream } from './config.ts';
import { createFileUpstream, type FileUpstream } from './file-upstream.ts';
import { createHttpUpstream, type HttpUpstream } from './http-upstream.ts';
import { signInPage } from './pages.ts';
import { peerOf } from './peer.ts';
import type { ProxyRuntime } from './proxy-runtime.ts';
import { type BrowserRequest, findRedirect, type FlowResult, startSignIn } from './sign-in.ts';
import { upstreamRequestHeaders } from './upstream-request-headers.ts';
import { createUpstreamRouter } from './upstream-router.ts';

/** What routes.ts already has for the sign-in flows, passed in rather than written twice. */
export interface FlowHelpers {
  browserRequest(request: FastifyRequest): BrowserRequest;
  flow(request: FastifyRequest, reply: FastifyReply, run: () => Promise<FlowResult>): Promise<unknown>;
}

/**
 * oauth2-proxy's isAjax: one of the Accept media types is exactly application/json. Such a
 * request cannot follow a sign-in page, so it gets a bare 401.
 */
function wantsJsonOnly(accept: string | string[] | undefined): boolean {
  const values = Array.isArray(accept) ? accept : accept === undefined ? [] : [accept];
  return values.some((value) => value.split(',').some((type) => type.trim() === 'application/json'));
}

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
    if (upstream.kind === 'file') {
      fileUpstreams.set(upstream, createFileUpstream(upstream.directory, upstream.path,
        (error, req) => rt.logger.error({ err: error, url: req.url }, 'file upstream failed')));
    }
  }

  // Not signed in, or not allowed: never reaches an upstream.
  const refuse = (request: FastifyRequest, reply: FastifyReply, status: 401 | 403) => {
    reply.header('cache-control', 'no-store');
    if (status === 403) throw new AppError('forbidden', 403, 'This account is not allowed here.');
    if (wantsJsonOnly(request.headers.accept)) throw new AppError('unauthorized', 401, 'Please sign in first.');
    const browser = helpers.browserRequest(request);
    if (config.skipProviderButton) return helpers.flow(request, reply, () => startSignIn(rt, browser));
    const page = signInPage({ startPath: `${config.proxyPrefix}/start`, redirect: findRedirect(rt, browser) });
    return reply.code(403).type('text/html; charset=utf-8').send(page.value);
  };

  return async function plugin(app: FastifyInstance) {
    // Bodies stay unread streams here, to be piped to the upstream as they arrive.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));
    app.addHook('onClose', async () => {
      for (const upstream of httpUpstreams.values()) upstream.close();
      for (const upstream of fileUpstreams.values()) upstream.close();
    });

    app.all('/*', async (request, reply) => {
      const path = pathOf(request.url);
      const peer = peerOf(request.socket);
      const origin = rt.origin({ ...peer, headers: request.headers, url: request.url });
      const skip = config.skipAuthRoutes.some((r) => (r.method === null || r.method === request.method) && r.pathPattern.test(path));
      const result = skip ? null : await checkAuth(rt, { cookieHeader: request.headers.cookie, rawQuery: '', host: origin.host });
      const setCookies = result?.setCookies ?? [];
      if (setCookies.length) reply.header('set-cookie', setCookies);
      if (result && result.status !== 202) return refuse(request, reply, result.status);

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
