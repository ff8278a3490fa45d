import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { IdConfig } from '../config/id-config.ts';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { adminApiRoutes } from '../identity/admin-api-routes.ts';
import { currentUser, identityRoutes, signIn, takeNextPath, type IdentityRoutesDeps } from '../identity/routes.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import { signInLinkUrl } from '../cli/one-time-link.ts';
import { webauthnAssetRoutes } from '../webauthn/asset-routes.ts';
import { webauthnRoutes } from '../webauthn/routes.ts';
import { assertSameOrigin } from '../web/csrf.ts';
import { installErrorHandling } from '../web/error-handler.ts';
import { errorPage } from '../web/pages/error-page.ts';
import { installSecurityHeaders } from '../web/security-headers.ts';
import { styleRoute } from '../web/style-route.ts';
import { createIdServices, type IdServices } from './id-services.ts';
import { createLogger } from './logger.ts';

export interface IdApp {
  app: FastifyInstance;
  services: IdServices;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** fastify's trustProxy from TRUST_PROXY: false, true, or the list of proxy addresses. */
const trustProxyOption = (value: IdConfig['trustProxy']) => (Array.isArray(value) ? value : value === true);

export async function createIdApp(config: Readonly<IdConfig>, options: { clock?: Clock; store?: EphemeralStore; logger?: boolean } = {}): Promise<IdApp> {
  const services = await createIdServices(config, options);
  const { identity, webauthn } = services;
  const secureCookies = config.appUrl.protocol === 'https:';
  const app = Fastify({
    loggerInstance: createLogger(config.logLevel, options.logger ?? true),
    trustProxy: trustProxyOption(config.trustProxy),
    bodyLimit: 64 * 1024,
    // Request ids let a user quote the reference on an error page and an operator find it in the log.
    genReqId: () => crypto.randomUUID(),
    // Per-request logs would double the log volume; errors and security events are logged explicitly.
    logController: new LogController({ disableRequestLogging: true }),
    // Refuse unknown fields instead of silently dropping them (fastify's default strips them).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } },
  });
  await app.register(cookie);
  await app.register(formbody);
  installSecurityHeaders(app, { hsts: secureCookies });
  installErrorHandling(app, errorPage(config.appName));

  app.route({ method: ['GET', 'HEAD'], url: '/healthz', handler: (_request, reply) => reply.code(204).send() });
  styleRoute(app);
  await webauthnAssetRoutes(app);

  const csrf = { origin: config.origin, cookieName: secureCookies ? '__Host-latchkey_csrf' : 'latchkey_csrf', secureCookies };
  const routeDeps: IdentityRoutesDeps = {
    identity, appName: config.appName, secureCookies, sessionTtlSeconds: config.sessionDurationSeconds, csrf,
    listPasskeys: async (userId) => (await webauthn.listPasskeys(userId)).map((p) => ({ id: p.id, name: p.name, createdAt: p.createdAtMs, lastUsedAt: p.lastUsedAtMs })),
  };
  identityRoutes(app, routeDeps);
  adminApiRoutes(app, { identity, secureCookies, csrf, linkUrl: (token) => signInLinkUrl(config.origin, token) });

  // The ceremonies change state with cookies, so they get the same CSRF defences as forms.
  app.addHook('preHandler', async (request) => {
    if (request.url.startsWith('/api/webauthn/')) assertSameOrigin(request, csrf);
  });
  await webauthnRoutes(app, {
    webauthn,
    async resolveRegistrant(request) {
      const signedIn = await currentUser(identity, request, secureCookies);
      if (!signedIn) throw new AppError('unauthorized', 401, 'Sign in first (or open your one-time link) to add a passkey.');
      const { user } = signedIn;
      return { userId: user.id, username: user.username, displayName: [user.firstName, user.lastName].filter(Boolean).join(' ') || user.username };
    },
    async onRegistered(request, _reply, passkey, registrant) {
      await identity.audit.record({ event: 'passkey_added', userId: registrant.userId, ip: request.ip, userAgent: request.headers['user-agent'], details: { passkeyId: passkey.id, name: passkey.name } });
      return { redirectTo: '/account?added=1' };
    },
    async onLogin(request, reply, login) {
      const user = await identity.users.require(login.userId);
      await signIn(routeDeps, request, reply, user, 'passkey');
      return { redirectTo: takeNextPath(request, reply) };
    },
  });

  return {
    app,
    services,
    async listen() {
      return app.listen({ host: config.host, port: config.port });
    },
    async close() {
      await app.close();
      await services.close();
    },
  };
}
