// Recovery codes over HTTP: making a set (/account/recovery-codes) and signing in with one
// (/login/recovery), which then sends the user straight to "add a passkey".
import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import { assertSameOrigin, csrfTokenFor } from '../web/csrf.ts';
import { field, formBody, optionalField } from '../web/form.ts';
import { newRecoveryCodesPage, recoveryCodesPage, recoveryCodesText } from '../web/pages/recovery-codes-page.ts';
import { recoverySignInPage } from '../web/pages/recovery-sign-in-page.ts';
import { accountFor, auditContext, sendPage, type AccountContextDeps } from './account-context.ts';
import { RECOVERY_CODE_COUNT } from './recovery-codes.ts';
import { countRecoveryAttempt } from './recovery-limits.ts';
import { currentUser, signIn, type SignOutReplacedUser } from './routes.ts';

export interface RecoveryRoutesDeps extends AccountContextDeps {
  /** Holds the attempt counters, shared by every instance. */
  store: EphemeralStore;
  /** When the code signs in another user than this browser's (routes.ts signIn). */
  signOutReplacedUser?: SignOutReplacedUser;
}

// Not a real user id (those are base64url): the work done for an unknown account is the same.
const NO_SUCH_USER = '!no-such-user';

const WRONG_PAIR = 'That username or email and recovery code do not match an unused code. Check both and try again.';
const TOO_MANY = 'Too many attempts. Wait 15 minutes, then try again, or ask an admin for a one-time sign-in link.';

export function recoveryRoutes(app: FastifyInstance, deps: RecoveryRoutesDeps): void {
  const { identity } = deps;

  app.get<{ Querystring: { done?: string } }>('/account/recovery-codes', async (request, reply) => {
    const account = await accountFor(deps, request, reply);
    if (!account) return reply;
    return sendPage(reply, recoveryCodesPage({ ...account.chrome, ...(await identity.recoveryCodes.status(account.user.id)) }));
  });

  app.post('/account/recovery-codes', async (request, reply) => {
    const body = formBody(request.body);
    assertSameOrigin(request, deps.csrf, body);
    const account = (await accountFor(deps, request, reply))!;
    // A checkbox, on the form only when there are codes to replace.
    const replace = optionalField(body, 'replace') === 'yes';
    const status = await identity.recoveryCodes.status(account.user.id);
    if (status.total > 0 && !replace)
      return sendPage(reply, recoveryCodesPage({ ...account.chrome, ...status, confirmError: 'Tick this box to confirm: your current codes will stop working.' }), 400);
    const codes = await identity.recoveryCodes.generate(account.user.id);
    await identity.audit.record({ event: 'recovery_codes_generated', ...auditContext(request, account.user.id), details: { count: codes.length, replaced: status.total } });
    return sendPage(reply, newRecoveryCodesPage({ ...account.chrome, codes }));
  });

  // The codes exist only in the page that showed them, so the download sends them back. Only the
  // user's own unused codes are accepted: the endpoint cannot be made to serve other text.
  app.post('/account/recovery-codes/download', async (request, reply) => {
    const body = formBody(request.body);
    assertSameOrigin(request, deps.csrf, body);
    const account = (await accountFor(deps, request, reply))!;
    const codes = field(body, 'codes').split(/\s+/).filter(Boolean);
    if (codes.length > RECOVERY_CODE_COUNT || !(await identity.recoveryCodes.areUnusedCodesOf(account.user.id, codes)))
      throw new AppError('recovery_codes_changed', 400, 'These are no longer your current recovery codes (some were used or replaced). Make a new set to download it.');
    const status = await identity.recoveryCodes.status(account.user.id);
    return reply.header('cache-control', 'no-store').header('content-disposition', 'attachment; filename="recovery-codes.txt"')
      .type('text/plain; charset=utf-8').send(recoveryCodesText(deps.appName, account.user.username, codes, status.createdAt ?? Date.now()));
  });

  app.get('/login/recovery', async (request, reply) => {
    if (await currentUser(identity, request, deps.secureCookies)) return reply.redirect('/account', 302);
    return sendPage(reply, recoverySignInPage({ appName: deps.appName, csrfToken: csrfTokenFor(request, reply, deps.csrf) }));
  });

  app.post('/login/recovery', async (request, reply) => {
    const body = formBody(request.body);
    assertSameOrigin(request, deps.csrf, body);
    const login = field(body, 'login').slice(0, 254);
    const code = field(body, 'code').slice(0, 40);
    const again = (status: number, view: Partial<Parameters<typeof recoverySignInPage>[0]>) =>
      sendPage(reply, recoverySignInPage({ appName: deps.appName, csrfToken: csrfTokenFor(request, reply, deps.csrf), login, ...view }), status);
    if (!login || !code.trim())
      return again(400, { fieldErrors: { ...(login ? {} : { login: 'Enter your username or email.' }), ...(code.trim() ? {} : { code: 'Enter one of your recovery codes.' }) } });

    const attempt = await countRecoveryAttempt(deps.store, login, request.ip);
    const user = await identity.users.findByLogin(login);
    const audit = { ip: request.ip, userAgent: request.headers['user-agent'], userId: user?.id ?? null };
    if (attempt.refused) {
      if (attempt.firstRefusal)
        await identity.audit.record({ event: 'recovery_code_rate_limited', ...audit, details: { login: login.slice(0, 100), ...attempt.counts } });
      return again(429, { error: TOO_MANY });
    }
    const active = user && !user.disabled ? user : null;
    const redeemed = await identity.recoveryCodes.redeem(active?.id ?? NO_SUCH_USER, code);
    if (!active || !redeemed) {
      await identity.audit.record({ event: 'recovery_code_failed', ...audit, details: { login: login.slice(0, 100), reason: !user ? 'unknown_account' : !active ? 'account_disabled' : 'wrong_code' } });
      return again(400, { error: WRONG_PAIR });
    }
    await identity.audit.record({ event: 'recovery_code_used', ...audit, details: { remaining: redeemed.remaining } });
    await signIn(deps, request, reply, active, 'recovery_code');
    return reply.redirect('/account?recovered=1#add-passkey', 303);
  });
}
