// `latchkey proxy`: the forward-auth proxy, a drop-in for oauth2-proxy v7 behind nginx or Caddy.
import { onShutdownSignal } from '../app/graceful-shutdown.ts';
import { loadProxyConfig, proxyHelpText } from '../config/proxy-config.ts';
import { createProxyServer } from '../proxy/server.ts';
import { printHelp } from './args.ts';

export async function run(argv: string[]): Promise<number | void> {
  if (argv.includes('--help') || argv.includes('-h')) return printHelp(proxyHelpText());
  const config = loadProxyConfig({ argv, env: process.env });
  const server = await createProxyServer(config);
  const log = server.app.log;
  // options accepted for oauth2-proxy's sake that do nothing here (--https-address without a certificate)
  for (const warning of config.warnings ?? []) log.warn(warning);
  const address = await server.listen();
  // an inherited TCP socket shows its address; saying where it came from helps reading the logs
  const inherited = 'fd' in config.httpAddress && address.transport === 'tcp' ? ` (inherited as fd:${config.httpAddress.fd})` : '';
  log.info({ address: address.url, issuer: config.oidcIssuerUrl }, `latchkey proxy listening on ${address.url}${inherited} (endpoints under ${config.proxyPrefix}/)`);
  await onShutdownSignal(() => server.close(), (message) => log.info(message));
  return 0;
}
