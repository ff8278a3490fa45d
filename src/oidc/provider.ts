import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { AuditEvent } from '../identity/audit-log.ts';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../storage/database.ts';
import { ensureSigningKey, loadSigningKeys, rotateSigningKey, type SigningAlg, type SigningKeySet } from './keys.ts';
import { logoutUser, type LogoutReport } from './logout-user.ts';
import { signOutOfApp } from './sign-out-of-app.ts';
import { OIDC_SESSION_COOKIE, providerSetup } from './provider-configuration.ts';
import { requestFor } from './request-registry.ts';
import { compareHashedClientSecrets } from './secret-comparison.ts';
import { sessionDuration, type SessionDuration } from './session-duration.ts';

export interface OidcProviderDeps {
  /** APP_URL without a trailing slash: the issuer, and the base of every endpoint. */
  issuer: string;
  db: Db;
  /** For storage expiry; oidc-provider itself reads the system clock. */
  clock: Clock;
  /** ENCRYPTION_KEY's bytes; the signing keys are sealed with a key derived from it. */
  encryptionKey: Buffer;
  signingAlg: SigningAlg;
  /**
   * The session duration: the admin setting's reader (identity.settings, as web sessions read it),
   * read again at every request to the provider; or a fixed number where no request is served.
   */
  sessionTtlSeconds: number | (() => Promise<number>);
  /** Signs the provider's cookies; the first signs, all verify (so keys can be rotated). */
  cookieKeys: string[];
  /** Whether X-Forwarded-Proto/-Host/-For are believed (TRUST_PROXY). */
  trustProxy: boolean;
  /**
   * The user signed in to latchkey (passkey web session) making this request, if any, and when
   * that sign-in happened (epoch seconds): the ID token's auth_time.
   */
  currentSignIn: (request: FastifyRequest) => Promise<{ userId: string; authTime: number } | null>;
  /** The name the provider's own pages show (admin settings, so read each time). */
  appName?: () => string;
  /**
   * Where to send a browser to sign in; it comes back to /interaction/:uid afterwards. With
   * `again`, the sign-in page asks for a passkey even from a browser that is signed in.
   */
  loginUrl: (uid: string, options?: { again?: boolean }) => string;
  /** After RP-initiated logout ended the provider session ("sign me out"), e.g. to end the web session. */
  onEndSession?: (event: { request: FastifyRequest; userId: string; clientId: string | undefined }) => Promise<void>;
  audit: (event: AuditEvent) => Promise<void>;
  /** How often to look for a key rotation made by another process (the CLI); 0 disables. Default 60. */
  keyCheckIntervalSeconds?: number;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export interface OidcProvider {
  readonly deps: OidcProviderDeps;
  /** The live oidc-provider instance. Replaced when the published key set changes: do not keep it. */
  current(): Provider;
  /** Node handler of the live instance. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Rebuilds the provider if the key set in the database changed (rotation elsewhere, or a retirement). */
  reloadKeysIfChanged(): Promise<boolean>;
  /** Makes a new current key, keeping the old one published for `overlapSeconds`, and uses it at once here. */
  rotateSigningKey(options: { overlapSeconds: number }): Promise<{ kid: string; previousKid: string | null }>;
  /** Ends the user's provider sessions, revokes their grants, and sends back-channel logout tokens. */
  logoutUser(userId: string): Promise<LogoutReport>;
  /** The same for one browser's provider session (the value of its session cookie). */
  logoutSession(userId: string, sessionId: string): Promise<LogoutReport>;
  /** The same for one app: its grants and tokens end and it hears back-channel logout; nothing else does. */
  signOutOfApp(userId: string, clientId: string): Promise<LogoutReport>;
  /** The name of the provider's session cookie, whose value `logoutSession` takes. */
  readonly sessionCookieName: string;
  close(): void;
}

const auditContext = (ctx: KoaContextWithOIDC) => {
  const request = requestFor(ctx.req);
  return { ip: request?.ip ?? ctx.ip, userAgent: ctx.get('user-agent') || null };
};

function build(deps: OidcProviderDeps, keys: SigningKeySet, duration: SessionDuration): { provider: Provider; handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> } {
  const { configuration, undoUnfinishedSilentSignIn } = providerSetup({ ...deps, sessionDuration: duration }, keys);
  const provider = new Provider(deps.issuer, configuration);
  provider.proxy = deps.trustProxy;
  // As fastify's (id-app.ts trustProxyOption): one proxy, so the last X-Forwarded-For address, not the visitor's first.
  provider.maxIpsCount = 1;
  compareHashedClientSecrets(provider);
  const report = (what: string) => (error: unknown) => deps.log?.error({ err: error }, what);

  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const token = ctx.oidc.entities.AccessToken ?? ctx.oidc.entities.RefreshToken;
    deps.audit({
      event: 'token_granted', userId: ctx.oidc.account?.accountId ?? token?.accountId ?? null, clientId: ctx.oidc.client?.clientId ?? null,
      ...auditContext(ctx), details: { grantType: ctx.oidc.params?.grant_type },
    }).catch(report('audit failed'));
  });
  provider.on('server_error', (_ctx: KoaContextWithOIDC, error: Error) => report('oidc-provider server error')(error));
  provider.on('backchannel.error', (_ctx: unknown, error: Error, client: { clientId: string }) =>
    deps.log?.warn({ err: error, clientId: client.clientId }, 'back-channel logout failed'));

  // oidc-provider's lifetimes are synchronous functions (session-duration.ts): read the current
  // session duration first, so whatever this request saves lasts what the setting now says.
  provider.use(async (_ctx, next) => {
    await duration.read();
    await next();
  });

  // APP_URL is the one source of truth for every URL (discovery, redirects, the logout page) and for
  // the public scheme. oidc-provider builds URLs from the request's Host and scheme (Koa's
  // ctx.href), so present every request to it as addressed to APP_URL: a forged Host or
  // X-Forwarded-Host cannot change an endpoint, and with an https APP_URL the cookies are Secure
  // even when TLS ends at a proxy we were not told to trust. (X-Forwarded-For still feeds ctx.ip
  // when TRUST_PROXY is on.)
  const issuerUrl = new URL(deps.issuer);
  provider.use(async (ctx, next) => {
    ctx.req.headers.host = issuerUrl.host;
    delete ctx.req.headers['x-forwarded-host'];
    Object.defineProperty(ctx.request, 'protocol', { value: issuerUrl.protocol.slice(0, -1) });
    await next();
  });

  // Runs around oidc-provider's own middleware, so after it has saved the session: a failed
  // prompt=none leaves no provider login behind.
  provider.use(undoUnfinishedSilentSignIn as Parameters<Provider['use']>[0]);

  // Runs around oidc-provider's own middleware: after a confirmed RP-initiated logout, tell the host.
  provider.use(async (ctx, next) => {
    await next();
    const oidcCtx = ctx as KoaContextWithOIDC;
    if (!deps.onEndSession || oidcCtx.oidc?.route !== 'end_session_confirm' || ctx.status !== 303 || !oidcCtx.oidc.params?.logout) return;
    // Only when the browser's own latchkey user signed out: the provider also ends a previous
    // user's session this way when another user signs in on the same browser.
    const request = requestFor(ctx.req);
    const userId = oidcCtx.oidc.session?.accountId;
    if (request && userId && (await deps.currentSignIn(request))?.userId === userId)
      await deps.onEndSession({ request, userId, clientId: oidcCtx.oidc.client?.clientId });
  });
  return { provider, handler: provider.callback() as (req: IncomingMessage, res: ServerResponse) => Promise<void> };
}

/**
 * Creates the provider, making a signing key on first start.
 *
 * Key rotation across processes: `latchkey` CLI rotates in the database; every running server checks
 * the published key set every `keyCheckIntervalSeconds` (one small query) and, when it changed,
 * builds a new oidc-provider instance with the new keys and swaps it in. Requests in flight finish on
 * the old instance; all state lives in the database, so nothing is lost. A new key is published at
 * the first check but signs only from two intervals after the rotation, when every server
 * publishes it; until then the previous key signs, and it stays published for the overlap, so
 * every token verifies at every server. The same check drops a superseded key once its retire
 * time has passed.
 */
export async function createOidcProvider(deps: OidcProviderDeps): Promise<OidcProvider> {
  if (deps.issuer.endsWith('/')) throw new Error('issuer must not end with a slash');
  if (!deps.cookieKeys.length) throw new Error('at least one cookie key is needed');
  await ensureSigningKey(deps.db, deps.clock, deps.encryptionKey, deps.signingAlg);
  const intervalSeconds = deps.keyCheckIntervalSeconds ?? 60;
  // A new key signs only once every server has had two checks to publish it (keys.ts).
  const load = () => loadSigningKeys(deps.db, deps.clock, deps.encryptionKey, { propagationMs: 2 * intervalSeconds * 1000 });
  let keys = await load();
  const duration = await sessionDuration(deps.sessionTtlSeconds);
  let live = build(deps, keys, duration);

  const reloadKeysIfChanged = async () => {
    const next = await load();
    if (next.fingerprint === keys.fingerprint) return false;
    keys = next;
    live = build(deps, next, duration);
    return true;
  };

  // These logout tokens are sent by the code above, not by oidc-provider's end_session, so its
  // 'backchannel.error' event never fires for them: a removal in the console whose app could not be
  // told was only an info-level audit line, while the app's own session (a proxy cookie) went on.
  const warnOfFailedLogouts = (report: LogoutReport): LogoutReport => {
    for (const failed of report.failedClients)
      deps.log?.warn({ clientId: failed.clientId, uri: failed.uri, reason: failed.reason },
        'back-channel logout failed: the app was not told, and a session it holds (a proxy cookie) goes on until it ends or is refreshed');
    for (const clientId of report.clientsWithoutLogoutUri)
      deps.log?.warn({ clientId }, 'back-channel logout not sent: the app has no back-channel logout URI, and a session it holds (a proxy cookie) goes on until it ends or is refreshed');
    return report;
  };

  const timer = intervalSeconds > 0
    ? setInterval(() => { reloadKeysIfChanged().catch((error) => deps.log?.error({ err: error }, 'signing key reload failed')); }, intervalSeconds * 1000)
    : null;
  timer?.unref();

  return {
    deps,
    current: () => live.provider,
    handle: (req, res) => live.handler(req, res),
    reloadKeysIfChanged,
    async rotateSigningKey(options) {
      const result = await rotateSigningKey(deps.db, deps.clock, deps.encryptionKey, { alg: deps.signingAlg, overlapSeconds: options.overlapSeconds });
      await reloadKeysIfChanged();
      return result;
    },
    logoutUser: (userId) => logoutUser({ db: deps.db, provider: live.provider, audit: deps.audit }, userId).then(warnOfFailedLogouts),
    logoutSession: (userId, sessionId) => logoutUser({ db: deps.db, provider: live.provider, audit: deps.audit }, userId, { sessionId }).then(warnOfFailedLogouts),
    signOutOfApp: (userId, clientId) => signOutOfApp({ db: deps.db, provider: live.provider, audit: deps.audit }, userId, clientId).then(warnOfFailedLogouts),
    sessionCookieName: OIDC_SESSION_COOKIE,
    close: () => { if (timer) clearInterval(timer); },
  };
}
