// A complete ProxyConfig for tests, with oauth2-proxy's defaults; override what a test is about.
import { randomBytes } from 'node:crypto';
import type { ProxyConfig } from '../../src/proxy/config.ts';

type Overrides = Partial<Omit<ProxyConfig, 'cookie'>> & { cookie?: Partial<ProxyConfig['cookie']> };

export function proxyConfigFixture(overrides: Overrides = {}): ProxyConfig {
  const { cookie, ...rest } = overrides;
  return {
    provider: 'oidc',
    clientId: 'proxy-client',
    clientSecret: 'proxy-client-secret',
    oidcIssuerUrl: 'http://127.0.0.1:1/',
    oidcInternalUrl: null,
    redirectUrl: null,
    scopes: ['openid', 'email', 'profile'],
    prompt: null,
    codeChallengeMethod: 'S256',
    insecureOidcAllowUnverifiedEmail: false,
    oidcEmailClaim: 'email',
    oidcGroupsClaim: 'groups',
    cookie: {
      name: '_oauth2_proxy',
      secret: randomBytes(32),
      secure: false,
      domains: [],
      path: '/',
      expireSeconds: 168 * 3600,
      refreshSeconds: 0,
      sameSite: '',
      httpOnly: true,
      csrfPerRequest: false,
      csrfExpireSeconds: 15 * 60,
      ...cookie,
    },
    emailDomains: ['*'],
    authenticatedEmails: null,
    authenticatedEmailsFile: null,
    allowedGroups: [],
    upstreams: [{ kind: 'static', statusCode: 200 }],
    upstreamTimeoutSeconds: 30,
    skipProviderButton: false,
    proxyWebsockets: true,
    passAuthorizationHeader: false,
    setAuthorizationHeader: false,
    passAccessToken: false,
    setXAuthRequest: false,
    reverseProxy: false,
    trustedProxyIps: [],
    whitelistDomains: [],
    skipAuthRoutes: [],
    httpAddress: { host: '127.0.0.1', port: 0 },
    pingPath: '/ping',
    readyPath: '/ready',
    metricsAddress: null,
    sessionStoreType: 'cookie',
    redisConnectionUrl: null,
    proxyPrefix: '/oauth2',
    logLevel: 'warn',
    ...rest,
  };
}
