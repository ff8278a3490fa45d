// `latchkey serve`: the identity provider (createIdApp, exactly as `latchkey id`), the proxy
// (buildProxyConfig + createProxyServer, exactly as `latchkey proxy`) and the static edge in one
// process. The proxy stays a real OIDC client of the provider: discovery, tokens, JWKS and
// back-channel logout travel over HTTP, so every access decision has the one code path that the
// split deployment uses. docs/serve.md explains the two origins.
import { createClientsService } from '../oidc/clients.ts';
import type { ServerResponse } from 'node:http';
import { buildProxyConfig } from '../config/proxy-config.ts';
import type { ServeConfig } from '../config/serve-config.ts';
import { deriveKey } from '../core/crypto.ts';
import { createStaticSite, type StaticSite } from '../edge/static-site.ts';
import { POCKET_ID_ROUTES } from '../oidc/paths.ts';
import { createProxyServer, type ProxyServer } from '../proxy/server.ts';
import { createIdApp, type IdApp } from './id-app.ts';
import type { LogDestination } from './logger.ts';
import { urlForLog } from '../core/url-secrets.ts';
import { type HttpListener, startListener } from './http-listener.ts';
import { ensureServeClient, SERVE_CLIENT_ID } from './serve-client.ts';
import { serveContextFor } from './serve-context.ts';
import { acceptingAbsoluteForm, createSiteHandler, type RequestHandler } from './site-handler.ts';
import { SESSION_RECHECK_MINUTES } from '../config/session-recheck.ts';
import type { ReloadOutcome } from '../core/file-version.ts';
import { watchTlsFiles } from '../core/tls-files.ts';

export interface ServeApp {
  id: IdApp;
  proxy: ProxyServer;
  site: StaticSite;
  /** The public listeners: the site, the provider (absent when they share one) and the https redirect. */
  listeners: { site: HttpListener; id: HttpListener | null; httpRedirect: HttpListener | null };
  /**
   * Looks at --tls-cert/--tls-key now (SIGHUP; they are also looked at every minute): a changed
   * pair that passes the start's checks is used for new connections. 'off' without TLS.
   */
  reloadTls(): ReloadOutcome | 'off';
  /** Stops accepting requests, finishes those in flight, then closes the proxy, the provider and the database. */
  close(): Promise<void>;
}

const BACKCHANNEL_LOGOUT_PATH = '/oauth2/backchannel-logout';

export async function createServeApp(config: Readonly<ServeConfig>, options: { logger?: boolean; logDestination?: LogDestination; tlsCheckIntervalMs?: number } = {}): Promise<ServeApp> {
  const started: HttpListener[] = [];
  const stopAll = () => Promise.all(started.splice(0).reverse().map((l) => l.close()));
  const id = await createIdApp(config.id, { logger: options.logger, logDestination: options.logDestination, serve: serveContextFor(config, SESSION_RECHECK_MINUTES) });
  let proxy: ProxyServer | null = null;
  let site: StaticSite | null = null;
  try {
    await id.app.ready();
    const log = id.app.log;

    // Back channels on loopback, never on the public listeners: they work the same with TLS (no
    // certificate for 127.0.0.1 needed), with one Host-routed listener, and whatever --listen says.
    const idBackChannel = await startListener({ host: '127.0.0.1', port: 0, handler: id.app.routing });
    started.push(idBackChannel);
    let proxyHandler: RequestHandler | null = null;
    const proxyBackChannel = await startListener({
      host: '127.0.0.1', port: 0,
      // Only what the provider posts here; the proxy's browser endpoints live on the site's origin.
      handler: (req, res) => (req.url === BACKCHANNEL_LOGOUT_PATH && proxyHandler ? proxyHandler(req, res) : notFound(res)),
    });
    started.push(proxyBackChannel);

    // The only place that may set up serve's client: the services' own refuse to (id-services.ts).
    const ownClient = createClientsService({ db: id.services.database.db, clock: id.services.clock });
    const clientSecret = await ensureServeClient(ownClient, {
      origin: config.siteOrigin,
      backchannelLogoutUri: `http://127.0.0.1:${proxyBackChannel.port}${BACKCHANNEL_LOGOUT_PATH}`,
    });
    const trust = config.trustProxy;
    const proxyConfig = buildProxyConfig({
      'client-id': SERVE_CLIENT_ID,
      'client-secret': clientSecret,
      'oidc-issuer-url': config.idOrigin,
      'oidc-internal-url': `http://127.0.0.1:${idBackChannel.port}`,
      'redirect-url': `${config.siteOrigin}/oauth2/callback`,
      // Derived, not stored: sessions survive a restart, and rotating ENCRYPTION_KEY ends them all.
      'cookie-secret': deriveKey(config.id.encryptionKey, 'serve-cookie-secret').toString('base64url'),
      'cookie-secure': config.siteUrl.protocol === 'https:',
      'cookie-refresh': `${SESSION_RECHECK_MINUTES}m`,
      'cookie-csrf-per-request': true,
      'email-domain': ['*'],
      // Access here is by sign-in and groups, never by email, and the provider marks an address the
      // user typed (the first admin's included) unverified: refusing those would lock them out for nothing.
      'insecure-oidc-allow-unverified-email': true,
      // Groups are checked per prefix from the groups claim, so always ask for it.
      scope: 'openid email profile groups',
      'skip-provider-button': true,
      // /oauth2/sign_out continues to the provider's sign-out page.
      'whitelist-domain': [config.idUrl.host],
      'reverse-proxy': trust !== false,
      'trusted-proxy-ip': trust === true ? ['0.0.0.0/0', '::/0'] : trust === false ? [] : trust,
    });
    proxy = await createProxyServer(proxyConfig, { loggerInstance: log.child({ component: 'proxy' }) });
    await proxy.app.ready();
    proxyHandler = proxy.app.routing;

    site = createStaticSite({
      root: config.siteRoot,
      protectedPrefixes: config.protectedPrefixes,
      onError: (error, req) => log.error({ err: error, url: urlForLog(req.url) }, 'static file failed'),
    });
    const endSession = new URL(POCKET_ID_ROUTES.end_session, config.idOrigin);
    endSession.search = new URLSearchParams({ client_id: SERVE_CLIENT_ID, post_logout_redirect_uri: `${config.siteOrigin}/` }).toString();
    const siteHandler = createSiteHandler({
      site, runtime: proxy.runtime, proxy: proxy.app.routing, health: id.app.routing,
      endSessionUrl: endSession.href, logger: log,
    });

    const secure = (handler: RequestHandler) => (config.tls ? withHsts(handler) : handler);
    const idHandler = secure(id.app.routing);
    const siteListener = await startListener({
      ...config.siteListen, tls: config.tls,
      handler: acceptingAbsoluteForm(config.sharedListener ? routeByHost(config.idUrl.hostname, idHandler, secure(siteHandler)) : secure(siteHandler)),
    });
    started.push(siteListener);
    const idListener = config.sharedListener ? null : await startListener({ ...config.idListen, tls: config.tls, handler: acceptingAbsoluteForm(idHandler) });
    if (idListener) started.push(idListener);
    const httpRedirect = config.httpRedirectPort === null ? null : await startListener({
      host: config.siteListen.host, port: config.httpRedirectPort,
      handler: acceptingAbsoluteForm(redirectToHttps([config.siteUrl, config.idUrl], config.siteUrl)),
    });
    if (httpRedirect) started.push(httpRedirect);
    const tlsListeners = [siteListener, idListener].filter((listener): listener is HttpListener => listener !== null);
    const tlsWatcher = config.tls && watchTlsFiles({
      files: config.tls, hostnames: [config.siteUrl.hostname, config.idUrl.hostname], current: config.tls.certificate,
      apply: (pair) => { for (const listener of tlsListeners) listener.replaceTls?.(pair); },
      log, now: () => Date.now(), intervalMs: options.tlsCheckIntervalMs,
    });
    // METRICS_ADDRESS means the same here as for latchkey id; id.close() stops it.
    await id.listenMetrics();

    // The provider answers from memory now; load discovery so the first visitor does not wait.
    await proxy.runtime.oidc.discover();

    const openedProxy = proxy;
    const openedSite = site;
    return {
      id, proxy: openedProxy, site: openedSite,
      listeners: { site: siteListener, id: idListener, httpRedirect },
      reloadTls: () => (tlsWatcher ? tlsWatcher.check() : 'off'),
      async close() {
        if (tlsWatcher) tlsWatcher.stop();
        await stopAll();
        await openedProxy.close();
        openedSite.close();
        await id.close();
      },
    };
  } catch (error) {
    await stopAll().catch(() => {});
    await proxy?.close().catch(() => {});
    site?.close();
    await id.close().catch(() => {});
    throw error;
  }
}

/**
 * One listener for both origins (same port, different host names: production on 443 behind one
 * certificate, or nginx passing Host on): the provider's host name goes to it, anything else to
 * the site. Host is the browser's (HTTP/1.1 §7.2); each app takes its URLs from configuration, never from it.
 */
export function routeByHost(idHostname: string, idHandler: RequestHandler, siteHandler: RequestHandler): RequestHandler {
  const wanted = idHostname.toLowerCase();
  return (req, res) => {
    const host = req.headers.host ?? '';
    const hostname = (host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]).toLowerCase();
    return hostname === wanted ? idHandler(req, res) : siteHandler(req, res);
  };
}

/** RFC 6797: browsers that saw this over https use only https for a year (every response, the provider's included). */
function withHsts(handler: RequestHandler): RequestHandler {
  return (req, res) => {
    res.setHeader('strict-transport-security', 'max-age=31536000');
    handler(req, res);
  };
}

/** The plain-http listener next to TLS: every request moves to https on the same host (ours only). */
function redirectToHttps(urls: URL[], fallback: URL): RequestHandler {
  const byHostname = new Map(urls.map((url) => [url.hostname.toLowerCase(), url.origin]));
  return (req, res) => {
    const hostname = (req.headers.host ?? '').split(':')[0].toLowerCase();
    // Only our own names: a forged Host must not turn this into an open redirect.
    const origin = byHostname.get(hostname) ?? fallback.origin;
    const path = (req.url ?? '/').startsWith('/') ? req.url ?? '/' : '/';
    res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 301 : 308, { location: origin + path, 'content-length': 0 });
    res.end();
  };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-length': 0 });
  res.end();
}
