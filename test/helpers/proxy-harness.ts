// A reference OIDC provider plus a latchkey proxy wired to it, both on 127.0.0.1:0, and helpers
// that act as the browser and as nginx. Every /oauth2/auth call goes through authCheck(), which
// fails the test on any status other than 202, 401 or 403.
import assert from 'node:assert/strict';
import { type Clock, manualClock } from '../../src/core/clock.ts';
import type { ProxyConfig } from '../../src/proxy/config.ts';
import { createProxyServer, type ProxyServer, type ProxyServerDeps } from '../../src/proxy/server.ts';
import { proxyConfigFixture } from './proxy-config-fixture.ts';
import { type AccountClaims, CookieJar, loginAtProvider, type ReferenceProvider, startReferenceProvider } from './reference-provider.ts';

export interface ProxyHarness {
  op: ReferenceProvider;
  proxy: ProxyServer;
  proxyUrl: string;
  config: ProxyConfig;
  clock: Clock & { advanceMs(ms: number): void };
  /** Starts at /oauth2/start (with `rd`), logs in at the provider, returns the callback URL not yet visited. */
  reachCallback(jar: CookieJar, login: string, rd?: string): Promise<string>;
  /** The full sign-in; returns the callback response. */
  signIn(login: string, options?: { rd?: string; jar?: CookieJar }): Promise<{ jar: CookieJar; callback: Response }>;
  /** GET /oauth2/auth as nginx would send it. */
  authCheck(jar: CookieJar | null, options?: { query?: string; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

export const AUTH_STATUSES = [202, 401, 403];

type Overrides = Parameters<typeof proxyConfigFixture>[0];

/**
 * `fetch`: what the proxy's OIDC client fetches with (a test may change what the provider seems to
 * answer). `deps`: more of the proxy's dependencies (a logger whose lines the test reads).
 */
export async function startProxyHarness(options: { config?: Overrides; accounts?: (login: string) => AccountClaims; accessTokenTtlSeconds?: number; fetch?: typeof fetch; deps?: ProxyServerDeps } = {}): Promise<ProxyHarness> {
  const op = await startReferenceProvider();
  const clock = manualClock(Date.now());
  const config = proxyConfigFixture({ oidcIssuerUrl: op.issuer, ...options.config });
  const proxy = await createProxyServer(config, { clock, ...(options.fetch ? { fetch: options.fetch } : {}), ...options.deps });
  const { url: proxyUrl } = await proxy.listen();
  op.configure({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    redirectUris: [config.redirectUrl ?? `${proxyUrl}/oauth2/callback`],
    backchannelLogoutUri: `${proxyUrl}/oauth2/backchannel-logout`,
    accounts: options.accounts,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds,
  });
  await proxy.runtime.oidc.discover();

  const harness: ProxyHarness = {
    op, proxy, proxyUrl, config, clock,
    async reachCallback(jar, login, rd) {
      const start = await jar.fetch(`${proxyUrl}/oauth2/start${rd === undefined ? '' : `?rd=${encodeURIComponent(rd)}`}`);
      assert.equal(start.status, 302, 'start redirects to the provider');
      const authorizationUrl = start.headers.get('location')!;
      assert.ok(authorizationUrl.startsWith(op.issuer), authorizationUrl);
      return loginAtProvider(jar, authorizationUrl, login, `${proxyUrl}/oauth2/callback`);
    },
    async signIn(login, signInOptions = {}) {
      const jar = signInOptions.jar ?? new CookieJar();
      const callbackUrl = await harness.reachCallback(jar, login, signInOptions.rd);
      const callback = await jar.fetch(callbackUrl);
      return { jar, callback };
    },
    async authCheck(jar, checkOptions = {}) {
      const url = `${proxyUrl}/oauth2/auth${checkOptions.query ? `?${checkOptions.query}` : ''}`;
      const headers = { ...checkOptions.headers };
      const response = jar ? await jar.fetch(url, { headers }) : await fetch(url, { headers, redirect: 'manual' });
      await response.arrayBuffer();
      assert.ok(AUTH_STATUSES.includes(response.status), `/oauth2/auth answered ${response.status}; nginx accepts only 202, 401, 403`);
      return response;
    },
    async close() {
      await proxy.close();
      await op.close();
    },
  };
  return harness;
}
