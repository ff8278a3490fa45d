// An OIDC provider that is not ours (panva's oidc-provider, OpenID-certified) on 127.0.0.1:0,
// to test the proxy as a relying party against an independent implementation. Its
// devInteractions login form accepts any login name; claims come from `accounts(login)`.
// Also: a tiny browser (cookie jar + manual redirects + form posting) to drive the flow by hand.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface AccountClaims {
  email?: string;
  email_verified?: boolean;
  preferred_username?: string;
  groups?: string[];
}

export interface ReferenceProviderOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  backchannelLogoutUri?: string;
  /** Claims for a login name; default: login@example.com, verified, no groups. */
  accounts?: (login: string) => AccountClaims;
  accessTokenTtlSeconds?: number;
}

export interface ReferenceProvider {
  issuer: string;
  /** Set once configure() ran. */
  provider: Provider | null;
  /** Creates the provider; until then it answers 503 (the issuer URL must exist before the client is known). */
  configure(options: ReferenceProviderOptions): Provider;
  close(): Promise<void>;
}

/** `issuerHost`: the name in the issuer URL (default 127.0.0.1); the server always listens on 127.0.0.1. */
export async function startReferenceProvider(options?: ReferenceProviderOptions, issuerHost = '127.0.0.1'): Promise<ReferenceProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://${issuerHost}:${(server.address() as AddressInfo).port}`;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  server.on('request', (req, res) => {
    if (handler) return handler(req, res);
    res.writeHead(503).end();
  });

  const reference: ReferenceProvider = {
    issuer,
    provider: null,
    configure(opts) {
      const provider = createProvider(issuer, opts);
      reference.provider = provider;
      handler = provider.callback();
      return provider;
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
  if (options) reference.configure(options);
  return reference;
}

function createProvider(issuer: string, options: ReferenceProviderOptions): Provider {
  const accounts = options.accounts ?? ((login: string) => ({ email: `${login}@example.com`, email_verified: true }));
  const provider = new Provider(issuer, {
    clients: [{
      client_id: options.clientId,
      client_secret: options.clientSecret,
      redirect_uris: options.redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...(options.backchannelLogoutUri ? { backchannel_logout_uri: options.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    }],
    async findAccount(_ctx, id) {
      return { accountId: id, claims: async () => ({ sub: id, preferred_username: id, ...accounts(id) }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username', 'groups'] },
    features: { devInteractions: { enabled: true }, backchannelLogout: { enabled: true }, rpInitiatedLogout: { enabled: true }, revocation: { enabled: true } },
    pkce: { required: () => true },
    // Refresh tokens without offline_access, as Pocket ID and many providers do for confidential clients.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: { AccessToken: options.accessTokenTtlSeconds ?? 3600 },
    cookies: { keys: ['reference-provider-test-key'] },
    // oidc-provider refuses outgoing requests to loopback (SSRF protection); the test proxy lives there.
    fetch: (url, init) => {
      const { dispatcher: _ignored, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(url, rest);
    },
  });
  provider.on('server_error', (_ctx, error) => console.error('reference provider error', error));
  return provider;
}

/** A browser's cookie jar, scoped to a host name (cookies ignore ports, as in browsers). */
export class CookieJar {
  readonly byHost = new Map<string, Map<string, string>>();

  store(url: string, response: Response): void {
    const host = new URL(url).hostname;
    const cookies = this.byHost.get(host) ?? new Map<string, string>();
    this.byHost.set(host, cookies);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (expired) cookies.delete(name);
      else cookies.set(name, value);
    }
  }

  header(url: string): string {
    const cookies = this.byHost.get(new URL(url).hostname);
    return cookies ? [...cookies].map(([n, v]) => `${n}=${v}`).join('; ') : '';
  }

  get(url: string, name: string): string | undefined {
    return this.byHost.get(new URL(url).hostname)?.get(name);
  }

  names(url: string): string[] {
    return [...(this.byHost.get(new URL(url).hostname)?.keys() ?? [])];
  }

  /** A page navigation unless `init` says otherwise (Node's fetch always claims Sec-Fetch-Mode: cors). */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has('sec-fetch-dest')) headers.set('sec-fetch-dest', 'document');
    const cookie = this.header(url);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.store(url, response);
    return response;
  }
}

const decodeEntities = (text: string) => text.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** The first POST form of a page: its absolute action URL and its named inputs. */
export function readForm(page: string, baseUrl: string): { action: string; fields: URLSearchParams } {
  const form = /<form\b[^>]*>[\s\S]*?<\/form>/i.exec(page);
  if (!form) throw new Error(`no form on the page: ${page.slice(0, 300)}`);
  const action = /action="([^"]*)"/i.exec(form[0])?.[1] ?? '';
  const fields = new URLSearchParams();
  for (const input of form[0].matchAll(/<input\b[^>]*>/gi)) {
    const name = /name="([^"]*)"/i.exec(input[0])?.[1];
    if (name) fields.set(decodeEntities(name), decodeEntities(/value="([^"]*)"/i.exec(input[0])?.[1] ?? ''));
  }
  return { action: new URL(decodeEntities(action), baseUrl).href, fields };
}

/**
 * Follows the provider from an authorization URL through its login and consent forms until it
 * redirects to `callbackPrefix`; returns that callback URL without following it.
 */
export async function loginAtProvider(jar: CookieJar, authorizationUrl: string, login: string, callbackPrefix: string, mapUrl: (url: string) => string = (u) => u): Promise<string> {
  let url = mapUrl(authorizationUrl);
  let init: RequestInit = {};
  for (let step = 0; step < 20; step++) {
    const response = await jar.fetch(url, init);
    init = {};
    const location = response.headers.get('location');
    if (location) {
      const next = new URL(location, url).href;
      await response.arrayBuffer();
      if (next.startsWith(callbackPrefix)) return next;
      url = mapUrl(next);
      continue;
    }
    const page = await response.text();
    if (response.status !== 200) throw new Error(`provider answered ${response.status} at ${url}: ${page.slice(0, 300)}`);
    const { action, fields } = readForm(page, url);
    if (fields.has('login') || /name="login"/.test(page)) {
      fields.set('login', login);
      fields.set('password', 'any');
    }
    url = mapUrl(action);
    init = { method: 'POST', body: fields, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }
  throw new Error('the provider never redirected to the callback');
}

/** Ends the provider session through its RP-initiated logout page, which sends back-channel logouts. */
export async function logoutAtProvider(jar: CookieJar, issuer: string): Promise<void> {
  const page = await (await jar.fetch(`${issuer}/session/end`)).text();
  const { action, fields } = readForm(page, `${issuer}/session/end`);
  fields.set('logout', 'yes');
  const response = await jar.fetch(action, { method: 'POST', body: fields, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  await response.arrayBuffer();
  if (response.status >= 400) throw new Error(`provider logout answered ${response.status}`);
}

/**
 * Has the provider send `clientId` a back-channel logout token naming only `sub` (as a provider
 * does for a grant that outlived its session), and returns the token as it went over the wire,
 * as someone who could read that traffic would hold it. The provider posts with the global fetch
 * (createProvider's `fetch` option), which is watched for the one call.
 */
export async function sendSubOnlyLogout(reference: ReferenceProvider, clientId: string, sub: string): Promise<string> {
  const realFetch = globalThis.fetch;
  let logoutToken = '';
  globalThis.fetch = async (input, init) => {
    if (String(input).includes('/backchannel-logout')) logoutToken = new URLSearchParams(String(init?.body ?? '')).get('logout_token') ?? logoutToken;
    return realFetch(input, init);
  };
  try {
    // oidc-provider's Client#backchannelLogout(sub, sid) exists but is missing from its typings
    const client = await reference.provider!.Client.find(clientId) as unknown as { backchannelLogout(sub: string, sid?: string): Promise<void> };
    await client.backchannelLogout(sub);
  } finally {
    globalThis.fetch = realFetch;
  }
  if (!logoutToken) throw new Error('the provider sent no logout token');
  return logoutToken;
}
