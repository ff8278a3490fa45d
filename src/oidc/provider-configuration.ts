import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { interactionPolicy } from 'oidc-provider';
import type { Clock } from '../core/clock.ts';
import { nodeHttpFetch } from '../core/node-http-fetch.ts';
import type { Db } from '../storage/database.ts';
import { decideAccess } from './access.ts';
import { CLAIMS_BY_SCOPE, createFindAccount } from './account.ts';
import { createAdapterFactory } from './adapter.ts';
import type { AuditEvent } from '../identity/audit-log.ts';
import type { SigningAlg, SigningKeySet } from './keys.ts';
import { loggedOutPage, logoutConfirmPage } from './pages.ts';
import { POCKET_ID_ROUTES, interactionPath } from './paths.ts';
import { promptNoneHooks, type PromptNoneHooks } from './prompt-none.ts';
import { providerErrorPage } from './render-error.ts';
import { requestFor } from './request-registry.ts';
import { refusingOutlivedRefreshTokens, sessionBoundTtls, type SessionDuration } from './session-duration.ts';
import type { FastifyRequest } from 'fastify';

/** The provider's session cookie; its value is the Session id in oidc_payloads. */
export const OIDC_SESSION_COOKIE = 'latchkey_oidc_session';

export interface ConfigurationDeps {
  db: Db;
  clock: Clock;
  signingAlg: SigningAlg;
  /** The session duration (admin setting): bounds provider sessions, grants and refresh tokens. */
  sessionDuration: SessionDuration;
  cookieKeys: string[];
  currentSignIn: (request: FastifyRequest) => Promise<{ userId: string; authTime: number } | null>;
  audit: (event: AuditEvent) => Promise<void>;
  /** The name pages show (admin settings, so read each time). */
  appName?: () => string;
}

// Only asymmetric algorithms anywhere. A client's stored `client_secret` is a hash; HS* would use
// it as an HMAC key, so anyone holding the database could forge tokens. (Default lists include HS256.)
const ASYMMETRIC = ['RS256', 'PS256', 'ES256'];

/**
 * Token lifetimes, the same for every client (the admin API reports them as Pocket ID's per-client
 * durations). Each token lasts at most its number here, and less when the session duration ends
 * first (session-duration.ts); sessions and grants last the session duration.
 */
export const TTL_SECONDS = { AccessToken: 3600, IdToken: 3600, AuthorizationCode: 60, RefreshToken: 30 * 24 * 3600, Interaction: 30 * 60 } as const;

/**
 * The login prompt also asks for an interaction unless the latchkey web session (passkey sign-in)
 * belongs to the same user as the provider's session and that user may use this client. So the web
 * session is the one source of truth: signing out of latchkey, a disabled account or a group change
 * is noticed at the next authorization request, not only when the provider's own session ends.
 */
function latchkeySessionCheck(deps: ConfigurationDeps) {
  // prompt=none answers login_required, as for any missing sign-in (OIDC Core §3.1.2.6)
  return new interactionPolicy.Check('latchkey_session', 'the End-User must be signed in to latchkey and allowed to use this client', 'login_required', async (ctx) => {
    if (ctx.oidc.result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT; // just confirmed by interactions.ts
    const request = requestFor(ctx.req);
    const userId = request ? (await deps.currentSignIn(request))?.userId ?? null : null;
    if (!userId || userId !== ctx.oidc.session?.accountId || !ctx.oidc.client) return interactionPolicy.Check.REQUEST_PROMPT;
    const decision = await decideAccess(deps.db, userId, ctx.oidc.client.clientId);
    return decision.kind === 'allowed' ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
  });
}

function policy(deps: ConfigurationDeps, promptNone: PromptNoneHooks) {
  const base = interactionPolicy.base();
  base.get('login')!.checks.push(latchkeySessionCheck(deps));
  base.add(promptNone.signIn, 0);
  base.add(promptNone.finish);
  return base;
}

/**
 * oidc-provider's configuration, and the middleware that must wrap the provider built from it
 * (provider.use): prompt-none.ts's hooks share state between the two, so they come from one call.
 */
export function providerSetup(deps: ConfigurationDeps, keys: SigningKeySet): { configuration: Configuration; undoUnfinishedSilentSignIn: PromptNoneHooks['undoUnfinished'] } {
  const findAccount = createFindAccount(deps.db);
  const promptNone = promptNoneHooks({ ...deps, findAccount });
  return { configuration: providerConfiguration(deps, keys, findAccount, promptNone), undoUnfinishedSilentSignIn: promptNone.undoUnfinished };
}

function providerConfiguration(deps: ConfigurationDeps, keys: SigningKeySet, findAccount: Configuration['findAccount'], promptNone: PromptNoneHooks): Configuration {
  return {
    adapter: refusingOutlivedRefreshTokens(createAdapterFactory(deps.db, deps.clock), deps.sessionDuration, deps.clock),
    jwks: { keys: keys.privateJwks as NonNullable<Configuration['jwks']>['keys'] },
    findAccount,
    loadExistingGrant: promptNone.loadExistingGrant,
    claims: Object.fromEntries(Object.entries(CLAIMS_BY_SCOPE).map(([scope, claims]) => [scope, [...claims]])),
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    // Put the scope's claims in the ID token too, as Pocket ID does: oauth2-proxy reads email and
    // groups from the ID token. (OIDC Core §5.4 allows this when no access token is returned to the
    // front channel, which is the case for response_type=code.)
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      id_token_signed_response_alg: deps.signingAlg,
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    extraClientMetadata: { properties: ['require_pkce'] },
    enabledJWA: {
      idTokenSigningAlgValues: [deps.signingAlg],
      clientAuthSigningAlgValues: ASYMMETRIC,
      requestObjectSigningAlgValues: ASYMMETRIC,
      userinfoSigningAlgValues: ASYMMETRIC,
      introspectionSigningAlgValues: ASYMMETRIC,
      authorizationSigningAlgValues: ASYMMETRIC,
    } as Configuration['enabledJWA'],
    // PKCE S256 only (oidc-provider v9 knows no `plain`); required for public clients and for
    // confidential clients that opted in (RFC 9700 §2.1.1).
    pkce: {
      required: (_ctx, client) => client.clientAuthMethod === 'none' || client.metadata().require_pkce === true,
    },
    routes: POCKET_ID_ROUTES,
    cookies: {
      keys: deps.cookieKeys,
      names: { session: OIDC_SESSION_COOKIE, interaction: 'latchkey_oidc_interaction', resume: 'latchkey_oidc_resume' },
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    ttl: { ...TTL_SECONDS, ...sessionBoundTtls(deps.sessionDuration, deps.clock, TTL_SECONDS) },
    // Pocket ID issues a refresh token with every code exchange (no offline_access needed), and
    // oauth2-proxy relies on it; each use rotates it, so a stolen one is noticed (RFC 9700 §4.14.2).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    features: {
      devInteractions: { enabled: false },
      // As Pocket ID: a client may introspect and revoke only the tokens issued to it. Any other
      // client's token reads as `{active: false}` (RFC 7662 §2.2), so one app cannot learn who is
      // signed in to another, nor check whether a token it got hold of is still good. A user who
      // may no longer use the client (left its groups, disabled) reads as inactive too, as userinfo
      // and refresh already refuse them: oidc-provider's introspection never asks findAccount.
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId
          && (!('accountId' in token) || (await decideAccess(deps.db, token.accountId, client.clientId)).kind === 'allowed'),
      },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = logoutConfirmPage({ host: ctx.host, form, appName: deps.appName?.() }).value;
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = loggedOutPage({ clientName: ctx.oidc.client?.clientName ?? null, appName: deps.appName?.() }).value;
        },
      },
    },
    interactions: { url: (ctx, interaction) => new URL(interactionPath(interaction.uid), ctx.oidc.issuer).href, policy: policy(deps, promptNone) },
    renderError: async (ctx: KoaContextWithOIDC, out, error) => {
      const { status, page } = providerErrorPage(out as { error: string; error_description?: string }, error, deps.appName?.());
      ctx.status = status;
      ctx.type = 'html';
      ctx.body = page.value;
    },
    // Back-channel logout URIs are registered by an administrator, and the usual one is the proxy
    // on the same machine (127.0.0.1), which oidc-provider's SSRF guard (an undici dispatcher)
    // would refuse: node:http takes no dispatcher, and spares the process undici's WebAssembly.
    // (oidc-provider passes every URL as a string, never a Request.)
    fetch: (url, options) => nodeHttpFetch(url as string, options as RequestInit),
  };
}
