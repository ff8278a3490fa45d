// `latchkey serve`: identity provider, proxy and static site in one process (docs/serve.md).
import { performance } from 'node:perf_hooks';
import { onShutdownSignal } from '../app/graceful-shutdown.ts';
import { createServeApp, type ServeApp } from '../app/serve-app.ts';
import { isServeHelp, loadServeConfig, SERVE_HELP, type ServeConfig } from '../config/serve-config.ts';
import { printHelp } from './args.ts';
import { announceFirstSignIn } from './first-sign-in.ts';

export async function run(argv: string[]): Promise<number> {
  if (isServeHelp(argv)) return printHelp(SERVE_HELP);
  const config = loadServeConfig({ argv, env: process.env });
  const serve = await createServeApp(config);
  const log = serve.id.app.log;
  for (const warning of [...config.warnings, ...config.id.warnings]) log.warn(warning);
  // performance.now() counts from process start, so this includes loading the modules.
  const readyMs = Math.round(performance.now());
  for (const line of await startupLines(config, serve, readyMs)) log.info(line);
  await announceFirstSignIn(serve.id.services, config.idOrigin, log);
  // SIGHUP (systemctl reload, a certbot deploy hook) looks at the certificate files at once; what
  // it finds is logged. Without TLS, SIGHUP keeps its default meaning (it ends the process).
  if (config.tls) process.on('SIGHUP', () => { if (serve.reloadTls() === 'unchanged') log.info('SIGHUP: the TLS certificate files have not changed'); });
  await onShutdownSignal(() => serve.close(), (message) => log.info(message));
  return 0;
}

async function startupLines(config: Readonly<ServeConfig>, serve: ServeApp, readyMs: number): Promise<string[]> {
  const where = (listener: { host: string; port: number }) => `${listener.host.includes(':') ? `[${listener.host}]` : listener.host}:${listener.port}`;
  const { site, id, httpRedirect } = serve.listeners;
  const protectedText = config.protectedPrefixes.map((p) => (p.allowedGroups.length ? `${p.prefix} (groups ${p.allowedGroups.join(', ')})` : p.prefix)).join(', ');
  return [
    `latchkey serve ready ${readyMs} ms after process start`,
    `site ${config.siteOrigin} (listening on ${where(site)}) serves ${config.siteRoot}; protected: ${protectedText || 'nothing'}`,
    `identity provider ${config.idOrigin} (listening on ${where(id ?? site)}${id ? '' : ', routed by Host'})`,
    ...(httpRedirect ? [`http on port ${httpRedirect.port} redirects to https`] : []),
    ...(config.tls ? [`TLS certificate ${config.tls.certPath} valid until ${config.tls.certificate.validToDate.toISOString()}; a renewed one is taken within a minute, or at once on SIGHUP`] : []),
    `to sign out, open ${config.idOrigin}/account and choose Sign out (or visit ${config.siteOrigin}/oauth2/sign_out); the site's session ends with it`,
  ];
}
