// `latchkey proxy`: the proxy runtime behind its own fastify server.
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { installErrorHandling } from '../web/error-handler.ts';
import type { ProxyConfig } from './config.ts';
import { proxyErrorPage } from './pages.ts';
import { createProxyRuntime, type ProxyDeps, type ProxyRuntime } from './proxy-runtime.ts';
import { proxyRoutes } from './routes.ts';

export interface ProxyServer {
  app: FastifyInstance;
  runtime: ProxyRuntime;
  /** Listens on config.httpAddress (port 0 = any free port) and starts loading discovery. */
  listen(): Promise<{ host: string; port: number; url: string }>;
  close(): Promise<void>;
}

export interface ProxyServerDeps extends Omit<ProxyDeps, 'logger'> {
  /** A pino logger to use instead of one at config.logLevel. */
  loggerInstance?: FastifyInstance['log'];
}

// Split session cookies can pass Node's 16 KiB default for all headers together.
const MAX_HEADER_BYTES = 64 * 1024;
const DISCOVERY_RETRY_MS = [250, 500, 1000, 2000, 5000];

export async function createProxyServer(config: ProxyConfig, deps: ProxyServerDeps = {}): Promise<ProxyServer> {
  const app = Fastify({
    ...(deps.loggerInstance ? { loggerInstance: deps.loggerInstance } : { logger: { level: config.logLevel } }),
    // No per-request log lines: /oauth2/auth runs for every private asset.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    bodyLimit: 64 * 1024,
  });
  const runtime = createProxyRuntime(config, { ...deps, logger: app.log });
  await app.register(formbody);
  installErrorHandling(app, proxyErrorPage);
  await app.register(proxyRoutes(runtime));

  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const loadDiscovery = async (attempt: number): Promise<void> => {
    if (closed) return;
    try {
      await runtime.oidc.discover();
      app.log.info({ issuer: config.oidcIssuerUrl }, 'provider discovery loaded');
    } catch (error) {
      const delayMs = DISCOVERY_RETRY_MS[Math.min(attempt, DISCOVERY_RETRY_MS.length - 1)];
      const cause = ((error as Error).cause ?? error) as Error;
      app.log.warn({ reason: cause?.message, retryInMs: delayMs }, 'provider discovery failed; /ready answers 503 until it works');
      retryTimer = setTimeout(() => void loadDiscovery(attempt + 1), delayMs);
      retryTimer.unref();
    }
  };

  return {
    app,
    runtime,
    async listen() {
      await runtime.sessions.start();
      await app.listen({ host: config.httpAddress.host, port: config.httpAddress.port });
      void loadDiscovery(0);
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.httpAddress.port;
      const host = config.httpAddress.host;
      return { host, port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      await app.close();
      await runtime.sessions.close();
    },
  };
}
