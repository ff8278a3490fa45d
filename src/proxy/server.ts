// `latchkey proxy`: the proxy runtime behind its own fastify server.
import formbody from '@fastify/formbody';
import type { RequestListener } from 'node:http';
import { createServer } from '../core/node-http.ts';
import { causeChain } from '../core/errors.ts';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { installErrorHandling } from '../web/error-handler.ts';
import { createLogger } from '../app/logger.ts';
import { latchkeyVersion } from '../cli/version.ts';
import { startMetricsServer, type MetricsServer } from '../metrics/metrics-server.ts';
import { createProxyMetrics, installProxyMetricsHooks, type ProxyMetrics } from '../metrics/proxy-metrics.ts';
import type { HttpAddress, ProxyConfig } from './config.ts';
import { PROXY_PAGE_HEADERS, proxyErrorPage } from './pages.ts';
import { watchAuthenticatedEmails } from '../config/authenticated-emails-file.ts';
import { type AuthObserver, createProxyRuntime, type ProxyDeps, type ProxyRuntime } from './proxy-runtime.ts';
import { proxyRoutes } from './routes.ts';
import { authFastPath } from './auth-endpoint.ts';
import { trackUnixSocketPeers } from './peer.ts';
import { listenOnInheritedSocket, listenOnSocketPath } from './socket-listen.ts';

/** Where the proxy listens once started; url is what the start-up line shows. */
export type ProxyListening =
  /** TCP, also when inherited as fd:N: url is http://host:port. */
  | { transport: 'tcp'; host: string; port: number; url: string }
  /** A unix socket, created at socketPath (url unix:///path) or inherited (socketPath null, url fd:N). */
  | { transport: 'unix'; socketPath: string | null; url: string };

export interface ProxyServer {
  app: FastifyInstance;
  runtime: ProxyRuntime;
  /** Listens on config.httpAddress (port 0 = any free port) and starts loading discovery. */
  listen(): Promise<ProxyListening>;
  /** The /metrics URL once listening, when --metrics-address is set. */
  readonly metricsUrl: string | null;
  close(): Promise<void>;
}

export interface ProxyServerDeps extends Omit<ProxyDeps, 'logger' | 'emailAllowList'> {
  /** A pino logger to use instead of one at config.logLevel. */
  loggerInstance?: FastifyInstance['log'];
  /** How often --authenticated-emails-file is looked at (tests); default EMAILS_FILE_CHECK_MS. */
  emailsFileCheckMs?: number;
}

// Split session cookies can pass Node's 16 KiB default for all headers together.
const MAX_HEADER_BYTES = 64 * 1024;
const noSchemas = (): never => {
  throw new Error('latchkey proxy routes take no schemas (see schemaController in server.ts)');
};
// What fastify's own server factory sets; ours must keep it.
const FASTIFY_KEEP_ALIVE_TIMEOUT_MS = 72_000;
const DISCOVERY_RETRY_MS = [250, 500, 1000, 2000, 5000];

/**
 * Every auth decision is counted (with --metrics-address) and logged at debug. Both are decided
 * here, once: with neither, there is no observer and the auth check does no extra work.
 */
function authObserver(log: FastifyInstance['log'], metrics: ProxyMetrics | null): AuthObserver | null {
  const debug = log.level === 'debug' || log.level === 'trace';
  if (!debug && !metrics) return null;
  return (status, session, reason) => {
    metrics?.authDecision(status);
    if (debug) log.debug({ status, reason, sub: session?.sub, email: session?.email }, 'auth decision');
  };
}

export async function createProxyServer(config: ProxyConfig, deps: ProxyServerDeps = {}): Promise<ProxyServer> {
  // /oauth2/auth, asked before every protected file, is answered in front of fastify (about 12%
  // less CPU per check and less garbage, bench/profile-proxy.ts). With --metrics-address it stays
  // in fastify, whose onResponse hook times every route. Set once the runtime exists.
  let answeredOutsideFastify: ReturnType<typeof authFastPath> = () => false;
  const app = Fastify({
    ...(!config.metricsAddress && {
      serverFactory: (fastifyHandler: RequestListener) => {
        const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
          if (!answeredOutsideFastify(req, res)) fastifyHandler(req, res);
        });
        server.keepAliveTimeout = FASTIFY_KEEP_ALIVE_TIMEOUT_MS;
        return server;
      },
    }),
    loggerInstance: deps.loggerInstance ?? createLogger(config.logLevel, true),
    genReqId: () => crypto.randomUUID(),
    // No per-request log lines: /oauth2/auth runs for every private asset.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    // The proxy's routes declare no schemas; without these two, fastify loads ajv and
    // fast-json-stringify (~250 modules, a third of what the proxy loads) at start for nothing.
    schemaController: { compilersFactory: { buildValidator: noSchemas, buildSerializer: noSchemas } },
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    bodyLimit: 64 * 1024,
  });
  trackUnixSocketPeers(app.server);
  const metrics = config.metricsAddress ? createProxyMetrics(latchkeyVersion()) : null;
  // As oauth2-proxy does, --authenticated-emails-file is read again when it changes: adding or
  // removing a friend takes effect without a restart.
  const emailsFile = config.authenticatedEmailsFile && config.authenticatedEmails && watchAuthenticatedEmails({
    path: config.authenticatedEmailsFile, label: '--authenticated-emails-file', initial: config.authenticatedEmails, log: app.log, intervalMs: deps.emailsFileCheckMs,
  });
  const runtime = createProxyRuntime(config, {
    ...deps, logger: app.log, authObserver: deps.authObserver ?? authObserver(app.log, metrics), emailAllowList: emailsFile ? emailsFile.list : null,
  });
  const authPath = `${config.proxyPrefix}/auth`;
  answeredOutsideFastify = authFastPath(runtime, authPath);
  await app.register(formbody);
  installErrorHandling(app, proxyErrorPage);
  // onSend sees only what fastify sends, the proxy's own answers: an upstream's answer is written
  // to the raw response after reply.hijack() (upstream-routes.ts) and keeps its own headers.
  // /oauth2/auth answers nginx, not a browser, and keeps the fast path's exact answer (auth-endpoint.ts).
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.routeOptions.url === authPath) return payload;
    for (const [name, value] of Object.entries(PROXY_PAGE_HEADERS)) {
      if (!reply.hasHeader(name)) reply.header(name, value);
    }
    return payload;
  });
  if (metrics) installProxyMetricsHooks(app, metrics, config.proxyPrefix);
  let metricsServer: MetricsServer | null = null;
  await app.register(proxyRoutes(runtime));

  let closed = false;
  let listenedOnInheritedSocket = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const loadDiscovery = async (attempt: number): Promise<void> => {
    if (closed) return;
    try {
      await runtime.oidc.discover();
      app.log.info({ issuer: config.oidcIssuerUrl }, 'provider discovery loaded');
    } catch (error) {
      const delayMs = DISCOVERY_RETRY_MS[Math.min(attempt, DISCOVERY_RETRY_MS.length - 1)];
      // The whole chain: "fetch failed" alone does not say whether the name, the port or the
      // certificate is wrong; nor does it say where the proxy looked (the issuer, or --oidc-internal-url).
      const where = config.oidcInternalUrl ? { issuer: config.oidcIssuerUrl, internalUrl: config.oidcInternalUrl } : { issuer: config.oidcIssuerUrl };
      app.log.warn({ reason: causeChain(error), ...where, retryInMs: delayMs }, 'provider discovery failed; /ready answers 503 until it works');
      retryTimer = setTimeout(() => void loadDiscovery(attempt + 1), delayMs);
      retryTimer.unref();
    }
  };

  return {
    app,
    runtime,
    async listen() {
      await runtime.sessions.start();
      const listening = await listenOn(app, config.httpAddress);
      if ('fd' in config.httpAddress) listenedOnInheritedSocket = true;
      if (metrics && config.metricsAddress) metricsServer = await startMetricsServer(config.metricsAddress, metrics.registry);
      void loadDiscovery(0);
      return listening;
    },
    get metricsUrl() { return metricsServer?.url ?? null; },
    async close() {
      closed = true;
      if (emailsFile) emailsFile.stop();
      await metricsServer?.close();
      clearTimeout(retryTimer);
      // fastify closes only a server it started listening itself
      if (listenedOnInheritedSocket) await new Promise<void>((resolve) => app.server.close(() => resolve()));
      await app.close();
      await runtime.sessions.close();
    },
  };
}

const httpUrl = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

/** Starts listening on one of --http-address's three forms. */
async function listenOn(app: FastifyInstance, address: HttpAddress): Promise<ProxyListening> {
  if ('socketPath' in address) {
    await listenOnSocketPath(app.server, () => app.listen({ path: address.socketPath }), address.socketPath, address.socketMode);
    return { transport: 'unix', socketPath: address.socketPath, url: `unix://${address.socketPath}` };
  }
  if ('fd' in address) {
    // fastify's listen() takes no fd, and its start-up log expects an address an inherited unix
    // socket does not have; the routes are ready once app.ready() resolves.
    await app.ready();
    await listenOnInheritedSocket(app.server, address.fd);
    const inherited = app.server.address();
    if (inherited === null || typeof inherited === 'string') return { transport: 'unix', socketPath: null, url: `fd:${address.fd}` };
    return { transport: 'tcp', host: inherited.address, port: inherited.port, url: httpUrl(inherited.address, inherited.port) };
  }
  await app.listen({ host: address.host, port: address.port });
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : address.port;
  return { transport: 'tcp', host: address.host, port, url: httpUrl(address.host, port) };
}
