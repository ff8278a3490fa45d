import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { lazySchemaController } from './lazy-schema-compilers.ts';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { IdConfig } from '../config/id-config.ts';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { adminApiRoutes, requireAdmin } from '../identity/admin-api-routes.ts';
import { currentUser, identityRoutes, signIn, takeNextPath, type IdentityRoutesDeps, type SignOutReplacedUser } from '../identity/routes.ts';
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
import { accountPagesRoutes } from './account-wiring.ts';
import type { ServeContext } from './serve-context.ts';
import { deriveKey } from '../core/crypto.ts';
import { createSignedOutGaps } from '../identity/signed-out-gaps.ts';
import { untoldApps, type SignOutGaps } from '../oidc/untold-apps.ts';
import { createReveal } from '../web/reveal.ts';
import { createOidcProvider, type OidcProvider } from '../oidc/provider.ts';
import { oidcRoutes } from '../oidc/routes.ts';
import { createAuthorizeRateLimit, createPushedAuthorizationRateLimit } from '../oidc/authorization-rate-limit.ts';
import { createPasskeySignInRateLimit } from '../webauthn/login-rate-limit.ts';
import { clientApiRoutes } from '../oidc/client-api-routes.ts';
import { adminConsoleRoutes } from '../admin/routes.ts';
import { readSessionToken } from '../identity/session-cookie.ts';
import { createLogger, type LogDestination } from './logger.ts';
import { observeAuditEvents } from './audit-events.ts';
import { countAuditedSignIns, idMetricsEndpoint } from '../metrics/id-metrics.ts';
import { latchkeyVersion } from '../cli/version.ts';
import { removeUserPasskey } from '../admin/passkey-reset.ts';

export interface IdApp {
  app: FastifyInstance;
  services: IdServices;
  oidc: OidcProvider;
  /**
   * Listens on HOST:PORT and returns that address as a URL: the address bound (http://0.0.0.0:1411
   * for every interface), not the first one fastify lists (127.0.0.1 then), so the start-up line
   * never reads as loopback-only when the port is open to the network.
   */
  listen(): Promise<string>;
  /** Starts only the METRICS_ADDRESS listener (serve routes the app through listeners of its own). */
  listenMetrics(): Promise<string | null>;
  /** The /metrics URL once listening, when METRICS_ADDRESS is set. */
  readonly metricsUrl: string | null;
  close(): Promise<void>;
}

/**
 * fastify's trustProxy from TRUST_PROXY: false, the list of proxy addresses, or for true one hop.
 * true believes the peer, whoever it is, but only as one proxy: the client is the last address in
 * X-Forwarded-For, the one that proxy added. Trusting every hop (fastify's `true`) would take the
 * first, which the visitor writes: nginx's $proxy_add_x_forwarded_for appends to what it was sent,
 * so any visitor could choose the address that rate limits and the audit log see.
 */
const trustProxyOption = (value: IdConfig['trustProxy']): string[] | ((address: string, hop: number) => boolean) | false =>
  Array.isArray(value) ? value : value === true ? trustThePeerOnly : false;
// A function, as fastify (5.x) refuses a bare hop count: it would believe any peer, proxy or not.
const trustThePeerOnly = (_address: string, hop: number): boolean => hop === 0;

export interface IdAppOptions {
  clock?: Clock;
  store?: EphemeralStore;
  logger?: boolean;
  logDestination?: LogDestination;
  /** Set by `latchkey serve`: the site this provider runs beside, for its pages to link to and speak of. */
  serve?: ServeContext;
}

export async function createIdApp(config: Readonly<IdConfig>, options: IdAppOptions = {}): Promise<IdApp> {
  const logger = createLogger(config.logLevel, options.logger ?? true, options.logDestination);
  const services = await createIdServices(config, { clock: options.clock, store: options.store, log: logger });
  const { identity, webauthn } = services;
  const secureCookies = config.appUrl.protocol === 'https:';
  const app = Fastify({
    loggerInstance: logger,
    trustProxy: trustProxyOption(config.trustProxy),
    bodyLimit: 64 * 1024,
    // Request ids let a user quote the reference on an error page and an operator find it in the log.
    genReqId: () => crypto.randomUUID(),
    // Per-request logs would double the log volume; errors and security events are logged explicitly.
    logController: new LogController({ disableRequestLogging: true }),
    // Refuse unknown fields instead of silently dropping them (fastify's default strips them).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } },
    schemaController: lazySchemaController,
  });
  // Programs (Pocket ID's API clients among them) often send Content-Type: application/json on
  // every request; a DELETE has no body, which fastify's JSON parser refuses with a 400. Such a
  // DELETE reads as one without a body; every other JSON body is parsed as before.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' && request.method === 'DELETE') return done(null, undefined);
    parseJson(request, body as string, done);
  });
  // docs/operations.md: an upgrade says in the log which migrations it applied.
  if (services.migrationsApplied.length)
    app.log.info({ event: 'database_migrated', migrations: services.migrationsApplied }, `applied database migrations: ${services.migrationsApplied.join(', ')}`);
  const metrics = idMetricsEndpoint(app, { metricsAddress: config.metricsAddress, db: services.database.db, clock: services.clock, version: latchkeyVersion() });
  // Audited events (sign-ins, admin actions) are logged at info and counted.
  observeAuditEvents(identity.audit, app.log, metrics ? (event) => countAuditedSignIns(metrics.metrics, event) : undefined);
  let metricsUrl: string | null = null;
  await app.register(cookie);
  await app.register(formbody);
  installSecurityHeaders(app, { hsts: secureCookies });
  installErrorHandling(app, errorPage(() => identity.settings.current().appName));

  app.route({ method: ['GET', 'HEAD'], url: '/healthz', handler: (_request, reply) => reply.code(204).send() });
  styleRoute(app);
  await webauthnAssetRoutes(app);

  const csrf = { origin: config.origin, cookieName: secureCookies ? '__Host-latchkey_csrf' : 'latchkey_csrf', secureCookies };
  const oidc = await createOidcProvider({
    issuer: config.origin,
    db: services.database.db,
    clock: services.clock,
    encryptionKey: config.encryptionKey,
    signingAlg: config.signingAlg,
    // The admin's setting, as web sessions read it (SESSION_DURATION until one is saved).
    sessionTtlSeconds: async () => (await identity.settings.get()).sessionDurationSeconds,
    cookieKeys: [deriveKey(config.encryptionKey, 'oidc-cookies').toString('base64url')],
    // URLs come from APP_URL whatever the headers say; this only lets client IPs through.
    trustProxy: config.trustProxy === true,
    appName: () => identity.settings.current().appName,
    currentSignIn: async (request) => {
      const signedIn = await currentUser(identity, request, secureCookies);
      return signedIn ? { userId: signedIn.user.id, authTime: Math.floor(signedIn.signedInAt / 1000) } : null;
    },
    loginUrl: (uid, options) => `${config.origin}/login?next=${encodeURIComponent(`/interaction/${uid}`)}${options?.again ? '&again=1' : ''}`,
    // RP-initiated logout ("sign me out" at an app) ends this browser's latchkey sign-in too.
    onEndSession: async ({ request }) => {
      const token = readSessionToken(request, secureCookies);
      if (token) await identity.sessions.destroy(token);
    },
    audit: (event) => identity.audit.record(event),
    log: app.log,
  });
  // Per client address (request.ip, as TRUST_PROXY allows), for the requests anyone may send that
  // make latchkey keep something. AUTHORIZE_REQUESTS_PER_MINUTE=0 turns all three off (a deployment
  // that limits at its edge; load tests from one address); the other two have fixed budgets.
  const limitDeps = { store: services.store, trustProxy: config.trustProxy !== false, log: app.log };
  const limitsOn = config.authorizeRequestsPerMinute > 0;
  await oidcRoutes(app, {
    oidc,
    authorizeRateLimit: createAuthorizeRateLimit({ ...limitDeps, requestsPerMinute: config.authorizeRequestsPerMinute }),
    pushedAuthorizationRateLimit: createPushedAuthorizationRateLimit({ ...limitDeps, enabled: limitsOn }),
  });

  const signedOutGaps = createSignedOutGaps({
    parked: createReveal<SignOutGaps>({ store: services.store, encryptionKey: config.encryptionKey, purpose: 'signed-out-gaps' }),
    secureCookies,
  });
  // Another user signed in on this browser: the previous one's provider session here ends and the
  // apps they used through it are told, as onSignOut does (signIn in identity/routes.ts says why).
  // An authorization this browser is in the middle of goes on without that session (oidc/interactions.ts).
  const signOutReplacedUser: SignOutReplacedUser = async (request, userId) => {
    const providerSession = request.cookies[oidc.sessionCookieName];
    if (providerSession) await oidc.logoutSession(userId, providerSession);
  };
  const routeDeps: IdentityRoutesDeps = {
    identity, secureCookies, csrf,
    get appName() { return identity.settings.current().appName; },
    // Signing out here ends this browser's provider session too and tells the apps it was used
    // with (back-channel logout), so their private pages close within seconds.
    // An app that could not be told is named on the /login page that follows (signed-out-gaps.ts).
    async onSignOut(request, reply, userId) {
      const providerSession = request.cookies[oidc.sessionCookieName];
      const report = providerSession ? await oidc.logoutSession(userId, providerSession) : null;
      const apps = await untoldApps(services.clients, report);
      const username = apps.length ? (await identity.users.get(userId))?.username ?? '' : '';
      return reply.redirect(await signedOutGaps.location(reply, { username, apps }), 303);
    },
    signedOutGaps,
    signOutReplacedUser,
  };
  identityRoutes(app, routeDeps);
  accountPagesRoutes(app, { services, oidc, csrf, secureCookies, siteUrl: options.serve?.siteUrl ?? null, signOutReplacedUser });

  const adminDeps = {
    identity, secureCookies, csrf, linkUrl: (token: string) => signInLinkUrl(config.origin, token),
    logoutEverywhere: (userId: string) => oidc.logoutUser(userId),
    passkeys: {
      list: (userId: string) => webauthn.listPasskeys(userId),
      async remove(userId: string, passkeyId: string) {
        await removeUserPasskey(services.database.db, userId, passkeyId);
        await identity.sessions.destroyAllForUser(userId);
        return oidc.logoutUser(userId);
      },
    },
  };
  adminApiRoutes(app, adminDeps);
  clientApiRoutes(app, { clients: services.clients, people: identity, requireAdmin: (request) => requireAdmin(adminDeps, request), audit: (event) => identity.audit.record(event) });
  await adminConsoleRoutes(app, { ...adminDeps, services, serve: options.serve ?? null });

  // The ceremonies change state with cookies, so they get the same CSRF defences as forms. By the
  // route, not the raw URL: the router decodes /%61pi/webauthn/… to the same route.
  app.addHook('preHandler', async (request) => {
    if (request.routeOptions.url?.startsWith('/api/webauthn/')) assertSameOrigin(request, csrf);
  });
  await webauthnRoutes(app, {
    webauthn,
    secureCookies,
    loginStartRateLimit: createPasskeySignInRateLimit({ ...limitDeps, enabled: limitsOn }),
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

  const listenMetrics = async () => {
    if (metrics && metricsUrl === null) metricsUrl = await metrics.listen();
    return metricsUrl;
  };
  return {
    app,
    services,
    oidc,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      await listenMetrics();
      const bound = app.server.address();
      const port = typeof bound === 'object' && bound ? bound.port : config.port;
      return `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    },
    listenMetrics,
    get metricsUrl() { return metricsUrl; },
    async close() {
      await metrics?.close();
      await app.close();
      oidc.close();
      await services.close();
    },
  };
}
