import type { Account, Grant, KoaContextWithOIDC, Session } from 'oidc-provider';
import { interactionPolicy } from 'oidc-provider';
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.ts';
import type { AuditEvent } from '../identity/audit-log.ts';
import type { Db } from '../storage/database.ts';
import { liveGrantsOf, type LiveGrant } from './authorized-apps.ts';
import { requestFor } from './request-registry.ts';

// prompt=none (OIDC Core §3.1.2.1) may show nothing, so it never reaches /interaction/:uid, which is
// where an interactive request turns the latchkey web session into a provider login. Pocket ID has
// one session: signed in there, prompt=none succeeds for an app you already use. These hooks give
// prompt=none the same: the login from the web session, the consent from the user's live grant.
// Every check of the interaction policy (max_age, id_token_hint, the latchkey session check, the
// consent prompt) still runs after them and still fails the request without showing anything.

export interface PromptNoneDeps {
  db: Db;
  clock: Clock;
  currentSignIn: (request: FastifyRequest) => Promise<{ userId: string; authTime: number } | null>;
  findAccount: (ctx: KoaContextWithOIDC, sub: string) => Promise<Account | undefined>;
  audit: (event: AuditEvent) => Promise<void>;
}

type Prompt = interactionPolicy.Prompt;

export interface PromptNoneHooks {
  /** oidc-provider's `loadExistingGrant`. */
  loadExistingGrant: (ctx: KoaContextWithOIDC) => Promise<Grant | undefined>;
  /** Goes first in the interaction policy: the login from the web session. */
  signIn: Prompt;
  /** Goes last: runs only once every other prompt passed, so only a request that succeeds leaves a trace. */
  finish: Prompt;
  /**
   * Koa middleware around oidc-provider (provider.use): when a request signed in from the web
   * session ends without a code (consent_required, id_token_hint, an error), it takes that
   * provider login back. oidc-provider has saved the session and set its cookie by then, in a
   * `finally` of its own; left alone, the failed request would leave the browser signed in to the
   * provider, and its next interactive sign-in would skip the login step and its audit record.
   */
  undoUnfinished: (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => Promise<void>;
}

const silent = (ctx: KoaContextWithOIDC) => ctx.oidc.route === 'authorization' && ctx.oidc.prompts.has('none');

/** The id of the user's newest live grant for `clientId` (their standing consent to it), if any. */
async function newestLiveGrantId(deps: Pick<PromptNoneDeps, 'db' | 'clock'>, userId: string, clientId: string): Promise<string | null> {
  let newest: LiveGrant | null = null;
  for (const grant of await liveGrantsOf(deps.db, deps.clock, userId)) {
    if (grant.clientId === clientId && (!newest || (grant.iat ?? 0) > (newest.iat ?? 0))) newest = grant;
  }
  return newest?.id ?? null;
}

// A sign-in older than max_age is not one to sign in with: the login prompt's own max_age check
// answers login_required all the same, but this way the failed request leaves no provider login.
function tooOld(ctx: KoaContextWithOIDC, authTime: number, nowMs: number): boolean {
  const maxAge = ctx.oidc.params?.max_age;
  return maxAge !== undefined && Math.floor(nowMs / 1000) - authTime > Number(maxAge);
}

// A policy check must answer "prompt or not"; these two also act, and always answer "not".
const actingCheck = (reason: string, description: string, act: (ctx: KoaContextWithOIDC) => Promise<void>) =>
  new interactionPolicy.Check(reason, description, async (ctx) => {
    await act(ctx);
    return interactionPolicy.Check.NO_NEED_TO_PROMPT;
  });

export function promptNoneHooks(deps: PromptNoneDeps): PromptNoneHooks {
  // Grants copied for a request and not yet saved, and requests signed in from the web session.
  const pendingCopies = new WeakSet<Grant>();
  const signedInFromWeb = new WeakSet<KoaContextWithOIDC>();

  /**
   * The grant this provider session holds for the client (oidc-provider's default), else, for
   * prompt=none only, a copy of the user's newest live grant for it from another provider session
   * (an expired one, another browser's). A copy, not that grant: signing out of one browser revokes
   * the grants its session names and must leave the other browser's tokens alone. Revoked consent
   * ("sign out of this app", sign out everywhere) deleted those grants, so nothing is found and the
   * consent prompt answers consent_required, as it does for an app never used.
   */
  const loadExistingGrant = async (ctx: KoaContextWithOIDC): Promise<Grant | undefined> => {
    const { oidc } = ctx;
    const clientId = oidc.client!.clientId;
    const grantId = oidc.result?.consent?.grantId || oidc.session?.grantIdFor(clientId);
    const own = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (own || !silent(ctx) || !oidc.account) return own;
    const accountId = oidc.account.accountId;
    const priorId = await newestLiveGrantId(deps, accountId, clientId);
    const prior = priorId ? await oidc.provider.Grant.find(priorId) : undefined;
    if (!prior || prior.accountId !== accountId || prior.clientId !== clientId) return undefined;
    const copy = new oidc.provider.Grant({ accountId, clientId });
    copy.addOIDCScope(prior.getOIDCScope());
    copy.addOIDCClaims(prior.getOIDCClaims());
    for (const [resource, scope] of Object.entries(prior.resources ?? {})) copy.addResourceScope(resource, scope);
    pendingCopies.add(copy); // saved by `finish`, once the request is sure to succeed
    return copy;
  };

  /**
   * For prompt=none from a browser with no provider login: signs the provider session in as the
   * latchkey web session's user, as /interaction/:uid would, with the web sign-in's time as auth_time
   * (so max_age judges it), then loads the account and grant as oidc-provider's loadAccount and
   * loadGrant would have, had there been an account when they ran. Does nothing without a live web
   * session (none, expired, revoked) or when the account may not use this client (findAccount refuses
   * a disabled account and one outside the client's groups): the login prompt then answers
   * login_required, as before.
   */
  const signIn = async (ctx: KoaContextWithOIDC): Promise<void> => {
    const { oidc } = ctx;
    // `new` (no stored session yet) is on oidc-provider's Session but not in its typings
    const session = oidc.session as (Session & { new?: boolean }) | undefined;
    if (!silent(ctx) || !session || session.accountId || !oidc.client) return;
    const request = requestFor(ctx.req);
    const web = request ? await deps.currentSignIn(request) : null;
    const account = web ? await deps.findAccount(ctx, web.userId) : undefined;
    if (!web || !account || tooOld(ctx, web.authTime, deps.clock.nowMs())) return;

    const clientId = oidc.client.clientId;
    session.loginAccount({ accountId: web.userId, loginTs: web.authTime });
    if (!session.new) session.resetIdentifier(); // a new id for a new login, as oidc-provider's resume does
    oidc.entity('Account', account);
    const grant = await loadExistingGrant(ctx);
    if (grant) {
      session.ensureClientContainer(clientId);
      if (grant.jti) session.grantIdFor(clientId, grant.jti);
    }
    oidc.entity('Grant', grant ?? new oidc.provider.Grant({ accountId: web.userId, clientId }));
    signedInFromWeb.add(ctx);
  };

  const finish = async (ctx: KoaContextWithOIDC): Promise<void> => {
    const { oidc } = ctx;
    const grant = oidc.entities.Grant as Grant | undefined;
    if (grant && pendingCopies.has(grant) && oidc.session && oidc.client) {
      pendingCopies.delete(grant);
      oidc.session.ensureClientContainer(oidc.client.clientId);
      oidc.session.grantIdFor(oidc.client.clientId, await grant.save());
    }
    if (signedInFromWeb.has(ctx)) {
      await deps.audit({
        event: 'oidc_login', userId: oidc.session?.accountId, clientId: oidc.client?.clientId,
        ip: requestFor(ctx.req)?.ip ?? null, userAgent: ctx.get('user-agent') || null, details: { prompt: 'none' },
      });
    }
  };

  const undoUnfinished = async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> => {
    await next();
    if (!signedInFromWeb.has(ctx) || ctx.oidc.entities.AuthorizationCode) return;
    const name = ctx.oidc.provider.cookieName('session');
    const setCookies = ctx.response.get('set-cookie') as unknown as string[] | string;
    const kept = (Array.isArray(setCookies) ? setCookies : [setCookies]).filter((line) => line && !line.startsWith(`${name}=`) && !line.startsWith(`${name}.sig=`));
    if (kept.length) ctx.set('set-cookie', kept);
    else ctx.remove('set-cookie');
    await ctx.oidc.session?.destroy();
  };

  return {
    loadExistingGrant,
    undoUnfinished,
    signIn: new interactionPolicy.Prompt({ name: 'latchkey_web_session', requestable: false },
      actingCheck('latchkey_web_session', 'prompt=none signs in from the latchkey web session', signIn)),
    finish: new interactionPolicy.Prompt({ name: 'latchkey_prompt_none_finish', requestable: false },
      actingCheck('latchkey_prompt_none_finish', 'prompt=none keeps the consent it carried over', finish)),
  };
}
