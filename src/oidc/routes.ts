import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../core/errors.ts';
import type { AddressRateLimit } from '../core/address-rate-limit.ts';
import { oversizedProviderRequest } from './authorization-size.ts';
import { resolveInteraction } from './interactions.ts';
import { sendPage } from '../web/send-page.ts';
import { messagePage, oversizedRequestPage, tooManySignInRequestsPage } from './pages.ts';
import { DISCOVERY_PATH, OAUTH_METADATA_PATH, POCKET_ID_ROUTES, PROVIDER_PATHS, providerRouteOf } from './paths.ts';
import type { OidcProvider } from './provider.ts';
import { rememberRequest } from './request-registry.ts';

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'DELETE', 'PATCH'] as const;

// Sub-paths oidc-provider serves under its routes: the resume step of an authorization request, and
// the confirm/success steps of RP-initiated logout.
const SUB_PATHS = [`${POCKET_ID_ROUTES.authorization}/:uid`, `${POCKET_ID_ROUTES.end_session}/confirm`, `${POCKET_ID_ROUTES.end_session}/success`];

/**
 * Mounts oidc-provider (a Koa app) in fastify. The reply is hijacked in onRequest, before fastify
 * parses any body, so oidc-provider reads the raw request stream itself (its own size limits and
 * parsers) and writes the raw response; fastify sends nothing for these paths.
 */
export interface OidcRoutesOptions {
  oidc: OidcProvider;
  /** Counts authorization requests per address; without it (a provider mounted alone in tests) nothing is counted. */
  authorizeRateLimit?: AddressRateLimit;
  /** Counts pushed authorization requests per address, the same way. */
  pushedAuthorizationRateLimit?: AddressRateLimit;
}

export async function oidcRoutes(app: FastifyInstance, options: OidcRoutesOptions): Promise<void> {
  const { oidc, authorizeRateLimit, pushedAuthorizationRateLimit } = options;

  // An authorization request the provider would keep (authorization-size.ts) is refused before it
  // reaches the provider: with a page, as it comes from a browser and, refused here, has no client
  // whose redirect_uri was checked to send an error to. A pushed request is refused in JSON, as
  // every answer of that back-channel endpoint is (RFC 9126 §2.3).
  const refusedOversized = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const refusal = oversizedProviderRequest({ method: request.method, url: request.raw.url ?? '/', headers: request.headers });
    if (!refusal) return false;
    if (refusal.endpoint === 'pushed_authorization_request') {
      const { oversized } = refusal;
      const [status, description] = oversized === 'length_required' ? [411, 'a Content-Length is required'] : [400, `the request body is longer than ${oversized.maxBytes} bytes`];
      reply.code(status).header('cache-control', 'no-store').send({ error: 'invalid_request', error_description: description });
    } else {
      sendPage(reply, oversizedRequestPage({ oversized: refusal.oversized, appName: oidc.deps.appName?.() }), 400);
    }
    return true;
  };

  // Only requests the provider serves as its authorization endpoint count (GET, and HEAD, which it
  // serves as GET; paths as its router matches them), and those to its pushed authorization
  // endpoint (POST, the only method it serves there); one refused for its size was not served.
  // Over the limit the request never reaches the provider, so it stores nothing. An authorization
  // request comes from a browser, so its refusal is a page; a pushed one is refused in JSON, as
  // every answer of that back-channel endpoint is: RFC 9126 §2.3 names 429 for "more requests
  // than the authorization server allows", with an error code of RFC 6749 §5.2 or §4.1.2.1, of
  // which temporarily_unavailable is the one that fits. Retry-After is the whole window, the
  // longest the wait can be.
  const refusedOverLimit = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    const route = providerRouteOf(request.raw.url ?? '/');
    const limit = route === 'authorization' && (request.method === 'GET' || request.method === 'HEAD') ? authorizeRateLimit
      : route === 'pushed_authorization_request' && request.method === 'POST' ? pushedAuthorizationRateLimit : undefined;
    if (!limit) return false;
    const { refused, retryAfterSeconds } = await limit.count(request.ip, request.socket.remoteAddress);
    if (!refused) return false;
    reply.header('retry-after', String(retryAfterSeconds));
    if (route === 'authorization') sendPage(reply, tooManySignInRequestsPage({ appName: oidc.deps.appName?.() }), 429);
    else reply.code(429).header('cache-control', 'no-store').send({ error: 'temporarily_unavailable', error_description: 'too many pushed authorization requests from this address; try again in a minute' });
    return true;
  };

  // (A boolean, not the reply: a fastify reply is a thenable, which an async function's return would unwrap.)
  const handOver = async (request: FastifyRequest, reply: FastifyReply) => {
    if (refusedOversized(request, reply) || await refusedOverLimit(request, reply)) return reply;
    rememberRequest(request);
    reply.hijack();
    await oidc.handle(request.raw, reply.raw);
  };
  const noop = async () => {};

  for (const url of [...PROVIDER_PATHS, ...SUB_PATHS])
    app.route({ method: [...ALL_METHODS], url, onRequest: handOver, handler: noop });

  // RFC 8414 metadata is the discovery document under another name.
  app.route({
    method: ['GET', 'HEAD', 'OPTIONS'], url: OAUTH_METADATA_PATH, handler: noop,
    onRequest: async (request, reply) => {
      const query = request.raw.url?.includes('?') ? request.raw.url.slice(request.raw.url.indexOf('?')) : '';
      request.raw.url = DISCOVERY_PATH + query;
      await handOver(request, reply);
    },
  });

  app.get<{ Params: { uid: string } }>('/interaction/:uid', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      const outcome = await resolveInteraction(oidc, {
        uid: request.params.uid, signIn: await oidc.deps.currentSignIn(request),
        req: request.raw, res: reply.raw, ip: request.ip, userAgent: request.headers['user-agent'] ?? null,
      });
      if (outcome.kind === 'refused') return reply.code(outcome.status).type('text/html; charset=utf-8').send(outcome.page.value);
      return reply.redirect(outcome.location, 303);
    } catch (error) {
      if (!isAppError(error) || error.status >= 500) throw error;
      return reply.code(error.status).type('text/html; charset=utf-8')
        .send(messagePage({ title: 'This sign-in expired', message: error.message, code: error.code }).value);
    }
  });
}
