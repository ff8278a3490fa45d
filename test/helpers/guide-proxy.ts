// `latchkey proxy` started from the deployment guide's Step 3 flag list, read by the same
// loadProxyConfig() as the command line. Only host names, ports and secrets differ from the
// guide; every extra flag is listed in EXTRA_FLAGS with the reason it is needed.
import { randomBytes } from 'node:crypto';
import { loadProxyConfig } from '../../src/config/proxy-config.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { ProxyConfig } from '../../src/proxy/config.ts';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.ts';

/** Step 3 of the deployment guide, verbatim (the oauth2-proxy container's `command:`). */
export const GUIDE_STEP_3_FLAGS = [
  '--provider=oidc',
  '--client-id=pocket-id-client',
  '--client-secret=YOUR_CLIENT_SECRET',
  '--oidc-issuer-url=https://id.ch3ngl0rd.com',
  '--redirect-url=https://agents.ch3ngl0rd.com/oauth2/callback',
  '--cookie-secret=YOUR_COOKIE_SECRET',
  '--cookie-secure=true',
  '--cookie-name=_oauth2_proxy',
  '--email-domain=*',
  '--upstream=static://200',
  '--skip-provider-button=true',
  '--pass-authorization-header=true',
  '--set-authorization-header=true',
  '--pass-access-token=true',
  '--cookie-csrf-per-request=true',
  '--cookie-csrf-expire=5m',
] as const;

export interface GuideProxyOptions {
  /** The id's public origin (the guide's https://id.ch3ngl0rd.com). */
  issuerUrl: string;
  /** The site's public origin (the guide's https://agents.ch3ngl0rd.com). */
  siteUrl: string;
  clientSecret: string;
  /** Where the proxy listens (the container's 127.0.0.1:4180 in the guide). */
  port: number;
  /** Where the proxy reaches the id when the issuer's name does not resolve here. */
  idInternalUrl?: string;
  /** Further flags a test is about (say why at the call site). */
  extraFlags?: string[];
}

/**
 * The flags added to the guide's list, and why:
 * --http-address:       the container's published 127.0.0.1:4180, on a free port;
 * --oidc-internal-url:  (when idInternalUrl is given) back-channel calls (discovery, JWKS, token)
 *                       go to 127.0.0.1: this machine has no DNS for the test host names (in
 *                       the guide the container resolves the real name and goes through nginx);
 * --set-xauthrequest:   the guide's nginx reads $upstream_http_x_auth_request_user/_email, which
 *                       oauth2-proxy (and latchkey) send only with this flag: the guide forgot it;
 * --log-level:          latchkey-only, keeps test output quiet; changes no behaviour.
 */
export function guideProxyArgv(options: GuideProxyOptions): string[] {
  const cookieSecret = randomBytes(32).toString('base64'); // what `openssl rand -base64 32` prints
  const guide = GUIDE_STEP_3_FLAGS.map((flag) => flag
    .replace('https://id.ch3ngl0rd.com', options.issuerUrl)
    .replace('https://agents.ch3ngl0rd.com', options.siteUrl)
    .replace('YOUR_CLIENT_SECRET', options.clientSecret)
    .replace('YOUR_COOKIE_SECRET', cookieSecret));
  return [
    ...guide,
    `--http-address=127.0.0.1:${options.port}`,
    ...(options.idInternalUrl ? [`--oidc-internal-url=${options.idInternalUrl}`] : []),
    '--set-xauthrequest=true',
    '--log-level=warn',
    ...(options.extraFlags ?? []),
  ];
}

export interface GuideProxy {
  server: ProxyServer;
  config: Readonly<ProxyConfig>;
  url: string;
  close(): Promise<void>;
}

/** Loads the configuration exactly as `latchkey proxy <argv>` does (no environment) and listens. */
export async function startGuideProxy(options: GuideProxyOptions, deps: { clock?: Clock } = {}): Promise<GuideProxy> {
  const config = loadProxyConfig({ argv: guideProxyArgv(options), env: {} });
  const server = await createProxyServer(config, deps);
  const { url } = await server.listen();
  await server.runtime.oidc.discover();
  return { server, config, url, close: () => server.close() };
}
