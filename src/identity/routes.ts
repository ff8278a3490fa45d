import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { assertSameOrigin, csrfTokenFor, type CsrfOptions } from '../web/csrf.ts';
import { field, formBody, optionalField } from '../web/form.ts';
import { oneTimeLinkPage } from '../web/pages/one-time-link-page.ts';
import { setupPage } from '../web/pages/setup-page.ts';
import { signInPage } from '../web/pages/sign-in-page.ts';
import { signOutGapsNotice } from '../web/pages/sign-out-gaps.ts';
import { sendPage } from '../web/send-page.ts';
import type { Identity } from './index.ts';
import type { SignedOutGaps } from './signed-out-gaps.ts';
import { safeLocalPath } from './local-redirect.ts';
import { clearSessionCookie, readSessionToken, setSessionCookie } from './session-cookie.ts';
import type { User } from './users.ts';

export interface IdentityRoutesDeps {
  identity: Identity;
  /** Read per request: an admin can change it (identity.settings). */
  readonly appName: string;
  secureCookies: boolean;
  csrf: CsrfOptions;
  /** Ends the user's sign-in at the OIDC provider too (its own session), then where to go. */
  onSignOut?: (request: FastifyRequest, reply: FastifyReply, userId: string) => Promise<void>;
  /** The apps "Sign out here" could not tell, for the /login page it redirects to (signed-out-gaps.ts). */
  signedOutGaps?: SignedOutGaps;
  signOutReplacedUser?: SignOutReplacedUser;
}

/**
 * Signs `userId` out of the apps they used from this browser, as "Sign out" does (their provider
 * session here ends, and those apps are told): another user has just signed in on this browser.
 */
export type SignOutReplacedUser = (request: FastifyRequest, userId: string) => Promise<void>;

const NEXT_COOKIE = 'latchkey_next';

/** Where a passkey sign-in should land: the page that sent the user to /login, else the account. */
export function takeNextPath(request: FastifyRequest, reply: FastifyReply): string {
  const next = safeLocalPath(request.cookies[NEXT_COOKIE]);
  reply.clearCookie(NEXT_COOKIE, { path: '/' });
  return next;
}


/**
 * The signed-in user of a request, or null. Used by every page and by OIDC interactions.
 * `signedInAt` (epoch ms) is when this web session's sign-in happened: a session starts at a
 * sign-in and only its expiry moves afterwards.
 */
export async function currentUser(identity: Identity, request: FastifyRequest, secure: boolean): Promise<{ user: User; sessionId: string; signedInAt: number } | null> {
  const session = await identity.sessions.resolve(readSessionToken(request, secure));
  if (!session) return null;
  const user = await identity.users.get(session.userId);
  return user && !user.disabled ? { user, sessionId: session.id, signedInAt: session.createdAt } : null;
}

/**
 * Starts a web session after a successful passkey, link or recovery-code sign-in, in place of the
 * one this browser had. That one ends here, whoever it was: left behind, its cookie value would
 * go on working until it expired, for whoever else holds it (a value that leaked, or the previous
 * person at a shared computer).
 * - The same user signing in again (prompt=login, max_age, a link opened while signed in): only
 *   the session changes. Their apps stay signed in: the provider session they came through is
 *   still theirs, and the new sign-in is the one their apps asked for. Nothing is audited but the
 *   sign-in: nobody signed out.
 * - Another user: the previous one is signed out of this browser as "Sign out" would (audited as
 *   a sign-out, with the reason, and their apps here are told through signOutReplacedUser), so
 *   their private pages do not stay open to the next person. The apps that could not be told are
 *   logged (provider.ts), not shown: the page that follows is the new user's, and the list would
 *   tell them which apps the previous one uses.
 */
export async function signIn(deps: Pick<IdentityRoutesDeps, 'identity' | 'secureCookies' | 'signOutReplacedUser'>, request: FastifyRequest, reply: FastifyReply, user: User, method: string): Promise<void> {
  const context = { ip: request.ip, userAgent: request.headers['user-agent'] };
  const previous = await deps.identity.sessions.take(readSessionToken(request, deps.secureCookies));
  if (previous && previous.userId !== user.id) {
    await deps.identity.audit.record({ event: 'signout', userId: previous.userId, ...context, details: { reason: 'another_user_signed_in' } });
    await deps.signOutReplacedUser?.(request, previous.userId);
  }
  const { token, session } = await deps.identity.sessions.create(user.id, context);
  // The cookie lasts exactly as long as the session (its duration is an admin setting).
  setSessionCookie(reply, token, { secure: deps.secureCookies, ttlSeconds: Math.round((session.expiresAt - session.createdAt) / 1000) });
  await deps.identity.audit.record({ event: 'signin', userId: user.id, ...context, details: { method } });
  request.log.info({ userId: user.id, method }, 'signed in');
}

export function identityRoutes(app: FastifyInstance, deps: IdentityRoutesDeps): void {
  const { identity } = deps;
  const csrfToken = (request: FastifyRequest, reply: FastifyReply) => csrfTokenFor(request, reply, deps.csrf);

  app.get('/', async (request, reply) => {
    const signedIn = await currentUser(identity, request, deps.secureCookies);
    return reply.redirect(signedIn ? '/account' : '/login', 302);
  });

  app.get<{ Querystring: { next?: string; again?: string; untold?: string } }>('/login', async (request, reply) => {
    const next = safeLocalPath(request.query.next);
    // `again`: an app asked for a fresh sign-in (OIDC prompt=login, max_age), so a signed-in
    // browser is asked for its passkey too; the new sign-in starts a new web session.
    const signedIn = (await currentUser(identity, request, deps.secureCookies)) !== null;
    const again = request.query.again === '1';
    if (signedIn && !again) return reply.redirect(next, 302);
    // Remembered in a short-lived cookie: the passkey ceremony's JSON carries no destination.
    reply.setCookie(NEXT_COOKIE, next, { path: '/', httpOnly: true, sameSite: 'lax', secure: deps.secureCookies, maxAge: 600 });
    const untold = signedIn ? null : await deps.signedOutGaps?.view(request, request.query.untold);
    return sendPage(reply, signInPage({ appName: deps.appName, csrfToken: csrfToken(request, reply), again: signedIn && again, notice: signOutGapsNotice(untold, 'self') }));
  });

  app.get('/setup', async (request, reply) => {
    if (await identity.setup.isComplete()) throw new AppError('setup_closed', 410, 'Setup is already complete. Sign in with your passkey.');
    const token = optionalField(formBody(request.query), 'token');
    if (!(await identity.setup.linkIsValid(token)))
      throw new AppError('link_invalid', 400, 'This setup link has expired or is not valid. Run `latchkey setup-link` on the server for a new one.');
    return sendPage(reply, setupPage({ appName: deps.appName, token, csrfToken: csrfToken(request, reply) }));
  });

  app.post('/setup', async (request, reply) => {
    const body = formBody(request.body);
    assertSameOrigin(request, deps.csrf, body);
    const token = field(body, 'token');
    const values = { username: field(body, 'username'), email: field(body, 'email'), firstName: field(body, 'firstName'), lastName: field(body, 'lastName') };
    try {
      const admin = await identity.setup.complete(token, { ...values, email: values.email || null });
      await identity.audit.record({ event: 'setup_completed', userId: admin.id, ip: request.ip, userAgent: request.headers['user-agent'] });
      await signIn(deps, request, reply, admin, 'setup_link');
      return reply.redirect('/account?welcome=1', 303);
    } catch (error) {
      const fields = error instanceof AppError ? (error.details?.fields as Record<string, string> | undefined) : undefined;
      if (error instanceof AppError && (fields || error.status === 409)) {
        const fieldErrors = fields ?? { [error.code === 'email_taken' ? 'email' : 'username']: error.message };
        return sendPage(reply, setupPage({ appName: deps.appName, token, values, fieldErrors, csrfToken: csrfToken(request, reply) }), 400);
      }
      throw error;
    }
  });

  // /lc/:token is where Pocket ID's one-time links point, so links keep their familiar shape.
  app.get<{ Params: { token: string } }>('/lc/:token', async (request, reply) => {
    const valid = (await identity.links.peek(request.params.token, 'signin')) !== null;
    return sendPage(reply, oneTimeLinkPage({ appName: deps.appName, token: request.params.token, csrfToken: csrfToken(request, reply), valid }), valid ? 200 : 400);
  });

  app.post('/link', async (request, reply) => {
    const body = formBody(request.body);
    assertSameOrigin(request, deps.csrf, body);
    const { userId } = await identity.links.consume(field(body, 'token'), 'signin');
    const user = userId ? await identity.users.get(userId) : null;
    if (!user || user.disabled) throw new AppError('account_disabled', 403, 'This account is disabled. Ask an admin.');
    await signIn(deps, request, reply, user, 'one_time_link');
    return reply.redirect('/account?welcome=1', 303);
  });

  // /account and its sub-pages: account-routes.ts, account-sessions-routes.ts, recovery-routes.ts.

  app.post('/logout', async (request, reply) => {
    assertSameOrigin(request, deps.csrf, formBody(request.body));
    const token = readSessionToken(request, deps.secureCookies);
    const session = await identity.sessions.resolve(token);
    if (token) await identity.sessions.destroy(token);
    clearSessionCookie(reply, deps.secureCookies);
    if (session) {
      await identity.audit.record({ event: 'signout', userId: session.userId, ip: request.ip, userAgent: request.headers['user-agent'] });
      if (deps.onSignOut) return deps.onSignOut(request, reply, session.userId);
    }
    return reply.redirect('/login', 303);
  });
}
