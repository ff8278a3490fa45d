// The proxy as an OpenID Connect relying party (openid-client v6, a certified RP). It talks to
// any provider over HTTP: discovery, authorization URL (PKCE S256 + nonce + state, RFC 9700
// §2.1.1), code exchange with the RFC 9207 `iss` check, ID token validation, userinfo, refresh,
// and Back-Channel Logout token validation (OIDC Back-Channel Logout 1.0 §2.6).
import { createRemoteJWKSet, customFetch as joseCustomFetch, jwtVerify, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { nodeHttpFetch } from '../core/node-http-fetch.ts';
import type { ProxyConfig } from './config.ts';
import { claimAt } from './session-from-tokens.ts';
import { isJsonObject } from '../core/json-object.ts';

export interface OidcTokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  /** ID token claims, completed from userinfo when the ID token lacks the email or groups claim (claimAt). */
  claims: Record<string, unknown>;
}

export interface AuthorizationRequest {
  redirectUri: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface OidcClient {
  readonly isReady: boolean;
  /** The provider's end_session_endpoint as browsers reach it (RP-Initiated Logout); null before discovery or when it has none. */
  readonly endSessionEndpoint: string | null;
  /** Loads discovery; safe to call again. Throws `provider_unavailable` (503). */
  discover(): Promise<void>;
  authorizationUrl(request: AuthorizationRequest): Promise<string>;
  /** Validates the authorization response in `callbackUrl` and redeems its code. */
  exchangeCode(callbackUrl: URL, expected: AuthorizationRequest): Promise<OidcTokens>;
  /** `previousSub`: the session's subject, so that userinfo can be asked when the answer has no ID token. */
  refresh(refreshToken: string, previousSub?: string): Promise<OidcTokens>;
  /** Returns the session to end, or throws `invalid_logout_token` (400). */
  /** `jti`: the token's id (§2.4 requires one, so a token without is refused), by which a replay is recognised. */
  verifyLogoutToken(logoutToken: string): Promise<{ sid?: string; sub?: string; jti: string }>;
}

export interface OidcClientDeps {
  clock: Clock;
  /** For tests; defaults to nodeHttpFetch (node:http rather than the global fetch: src/core/node-http-fetch.ts says why). */
  fetch?: typeof fetch;
}


/**
 * The ID token's claims over userinfo's, as oauth2-proxy asks the ID token first and the profile
 * URL for what it lacks, claim by claim: nested objects merge too, so a dotted claim path
 * (realm_access.roles) missing from the ID token's object is still found in userinfo's.
 */
function mergeClaims(userinfo: Record<string, unknown>, idClaims: Record<string, unknown>): Record<string, unknown> {
  const merged = new Map(Object.entries(userinfo));
  for (const [name, value] of Object.entries(idClaims)) {
    const under = merged.get(name);
    if (value === null && under !== undefined) continue; // a null claim is no claim there either
    merged.set(name, isJsonObject(value) && isJsonObject(under) ? mergeClaims(under, value) : value);
  }
  // fromEntries defines each claim, so one named __proto__ stays a claim
  return Object.fromEntries(merged);
}

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

const providerUnavailable = (cause: unknown) =>
  new AppError('provider_unavailable', 503, 'The identity provider cannot be reached right now. Please try again shortly.', { cause });

/** Whether an openid-client failure is the provider (or the response) saying no, rather than the network failing. */
export const isRefusal = (error: unknown): boolean =>
  error instanceof client.ResponseBodyError || error instanceof client.AuthorizationResponseError ||
  error instanceof client.ClientError || error instanceof client.WWWAuthenticateChallengeError;

/** How old a logout token may be (its iat), and how far the provider's clock may be from ours. */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 5 * 60;
export const CLOCK_TOLERANCE_SECONDS = 60;

export function createOidcClient(config: ProxyConfig, deps: OidcClientDeps): OidcClient {
  const baseFetch: (url: string, init: RequestInit) => Promise<Response> = deps.fetch ?? nodeHttpFetch;
  const issuer = new URL(config.oidcIssuerUrl);
  const internal = config.oidcInternalUrl ? new URL(config.oidcInternalUrl) : null;
  // The browser uses the issuer's URLs; the proxy may reach the same provider elsewhere
  // (a container name, 127.0.0.1): rewrite back-channel requests, keep the issuer identity.
  const backChannelUrl = (url: string): string =>
    internal && url.startsWith(issuer.origin) ? internal.origin + url.slice(issuer.origin.length) : url;
  const customFetch = (url: string, options: client.CustomFetchOptions) => baseFetch(backChannelUrl(url), options as RequestInit);

  let configuration: client.Configuration | null = null;
  let logoutKeys: ReturnType<typeof createRemoteJWKSet> | null = null;
  let loading: Promise<void> | null = null;

  // Some providers (oidc-provider) build endpoint URLs from the Host they were asked on, so a
  // discovery fetched internally names internal URLs: give the browser-facing ones back the issuer's origin.
  const frontChannelUrl = (url: string | undefined): string | undefined =>
    url && internal && url.startsWith(internal.origin) ? issuer.origin + url.slice(internal.origin.length) : url;

  const load = async () => {
    const insecure = issuer.protocol === 'http:' || internal?.protocol === 'http:';
    // Also verify ID token signatures, not only TLS: the back channel may be plain http inside a network.
    const execute = insecure ? [client.allowInsecureRequests, client.enableNonRepudiationChecks] : [client.enableNonRepudiationChecks];
    let discovered = await client.discovery(issuer, config.clientId, config.clientSecret, client.ClientSecretBasic(config.clientSecret), {
      [client.customFetch]: customFetch,
      timeout: 10,
      execute,
    });
    if (internal) {
      const { supportsPKCE: _helper, ...metadata } = discovered.serverMetadata();
      const patched: Record<string, unknown> = { ...metadata };
      for (const key of ['authorization_endpoint', 'end_session_endpoint'] as const) if (metadata[key]) patched[key] = frontChannelUrl(metadata[key]);
      discovered = new client.Configuration(patched as unknown as client.ServerMetadata, config.clientId, config.clientSecret, client.ClientSecretBasic(config.clientSecret));
      discovered.timeout = 10;
      for (const apply of execute) apply(discovered);
    }
    discovered[client.customFetch] = customFetch;
    const jwksUri = discovered.serverMetadata().jwks_uri;
    if (!jwksUri) throw new Error('the provider publishes no jwks_uri');
    logoutKeys = createRemoteJWKSet(new URL(backChannelUrl(jwksUri)), { [joseCustomFetch]: (url, options) => baseFetch(url, options) });
    configuration = discovered;
  };

  const ready = async (): Promise<client.Configuration> => {
    if (configuration) return configuration;
    loading ??= load().finally(() => { loading = null; });
    try {
      await loading;
    } catch (error) {
      throw providerUnavailable(error);
    }
    return configuration!;
  };

  const tokensFrom = async (cfg: client.Configuration, response: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, previousSub?: string): Promise<OidcTokens> => {
    const idClaims = (response.claims() ?? {}) as Record<string, unknown>;
    const accessToken = response.access_token;
    let claims: Record<string, unknown> = idClaims;
    const sub = typeof idClaims.sub === 'string' ? idClaims.sub : previousSub;
    const lacking = claimAt(idClaims, config.oidcEmailClaim) === undefined || claimAt(idClaims, config.oidcGroupsClaim) === undefined;
    // Providers that follow OIDC Core §5.4 strictly put scope claims only in userinfo for the code flow.
    if (lacking && accessToken && sub && cfg.serverMetadata().userinfo_endpoint) {
      const userinfo = await client.fetchUserInfo(cfg, accessToken, sub);
      claims = mergeClaims(userinfo as Record<string, unknown>, idClaims);
    }
    return { idToken: response.id_token ?? '', accessToken: accessToken ?? '', refreshToken: response.refresh_token ?? '', claims };
  };

  return {
    get isReady() {
      return configuration !== null;
    },
    get endSessionEndpoint() {
      return configuration?.serverMetadata().end_session_endpoint ?? null;
    },
    async discover() {
      await ready();
    },
    async authorizationUrl(request) {
      const cfg = await ready();
      const parameters: Record<string, string> = {
        redirect_uri: request.redirectUri,
        scope: config.scopes.join(' '),
        state: request.state,
        nonce: request.nonce,
      };
      if (config.codeChallengeMethod) {
        parameters.code_challenge_method = config.codeChallengeMethod;
        parameters.code_challenge = config.codeChallengeMethod === 'S256' ? await client.calculatePKCECodeChallenge(request.codeVerifier) : request.codeVerifier;
      }
      if (config.prompt) parameters.prompt = config.prompt;
      return client.buildAuthorizationUrl(cfg, parameters).href;
    },
    async exchangeCode(callbackUrl, expected) {
      const cfg = await ready();
      const response = await client.authorizationCodeGrant(cfg, callbackUrl, {
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        idTokenExpected: true,
        pkceCodeVerifier: config.codeChallengeMethod ? expected.codeVerifier : undefined,
      }, { redirect_uri: expected.redirectUri });
      return tokensFrom(cfg, response);
    },
    async refresh(refreshToken, previousSub) {
      const cfg = await ready();
      const response = await client.refreshTokenGrant(cfg, refreshToken);
      // OIDC Core §12.2: the answer may carry no ID token; then the claims (groups, email) come
      // from userinfo for the session's own subject, or a removed group would outlive the refresh.
      const tokens = await tokensFrom(cfg, response, previousSub);
      // RFC 6749 §6: the provider may keep the old refresh token valid and not send a new one.
      return { ...tokens, refreshToken: tokens.refreshToken || refreshToken };
    },
    async verifyLogoutToken(logoutToken) {
      const cfg = await ready();
      const invalid = (cause?: unknown) => new AppError('invalid_logout_token', 400, 'The logout token is not valid.', { cause });
      let payload: JWTPayload;
      try {
        // §2.6 steps 3–5: signature with the provider's keys, iss, aud, iat (and exp when present).
        // A logout token is sent the moment the session ends; one older than LOGOUT_TOKEN_MAX_AGE_SECONDS
        // is a replay (exp is optional in the spec). A younger one seen before is recognised by
        // its jti (routes.ts).
        ({ payload } = await jwtVerify(logoutToken, logoutKeys!, {
          issuer: cfg.serverMetadata().issuer,
          audience: config.clientId,
          requiredClaims: ['iat'],
          maxTokenAge: LOGOUT_TOKEN_MAX_AGE_SECONDS,
          currentDate: new Date(deps.clock.nowMs()),
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
        }));
      } catch (error) {
        throw invalid(error);
      }
      // §2.6 steps 6–8: sid and/or sub, the back-channel logout event, and no nonce (so an ID token cannot pass).
      const events = payload.events as Record<string, unknown> | undefined;
      const event = events?.[BACKCHANNEL_LOGOUT_EVENT];
      if (!event || typeof event !== 'object' || Array.isArray(event)) throw invalid();
      if (payload.nonce !== undefined) throw invalid();
      const sid = typeof payload.sid === 'string' && payload.sid ? payload.sid : undefined;
      const sub = typeof payload.sub === 'string' && payload.sub ? payload.sub : undefined;
      if (!sid && !sub) throw invalid();
      // §2.4: jti is REQUIRED; a token without one could be replayed unrecognised (routes.ts).
      if (typeof payload.jti !== 'string' || !payload.jti) throw invalid();
      return { sid, sub, jti: payload.jti };
    },
  };
}
