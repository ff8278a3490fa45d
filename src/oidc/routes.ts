import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../core/errors.ts';
import { resolveInteraction } from './interactions.ts';
import { messagePage } from './pages.ts';
import { DISCOVERY_PATH, OAUTH_METADATA_PATH, POCKET_ID_ROUTES, PROVIDER_PATHS } from './paths.ts';
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
export async function oidcRoutes(app: FastifyInstance, options: { oidc: OidcProvider }): Promise<void> {
  const { oidc } = options;
  const handOver = async (request: FastifyRequest, reply: FastifyReply) => {
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
