// /account/sessions: the user's web sessions and the apps they signed in to; end one session, sign
// out of one app (Pocket ID's My apps → Revoke), or sign out everywhere.
//
// "Sign out everywhere" keeps the session that asks for it. The person pressing it is usually
// reacting to a lost or shared device, and their next steps happen here (delete that device's
// passkey, make new recovery codes); throwing them out first would only make them sign in again.
// Every app is signed out on every device, this one included: oidc-provider's grants belong to
// the user, not to a device, and logoutUser() ends all of them with back-channel logout.
// An app this server cannot reach is not told, and a session it keeps itself (a proxy's cookie)
// goes on: the page after either sign-out names it (untold-apps.ts) instead of "signed out of every app".
import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.ts';
import type { AuthorizedApp } from '../oidc/authorized-apps.ts';
import { locationAfterSignOut, signOutGapsOf, type SignOutGaps, type UntoldApp } from '../oidc/untold-apps.ts';
import type { Reveal } from '../web/reveal.ts';
import { assertSameOrigin } from '../web/csrf.ts';
import { formBody } from '../web/form.ts';
import { html } from '../web/html.ts';
import { confirmPage } from '../web/pages/confirm-page.ts';
import { sessionsPage } from '../web/pages/sessions-page.ts';
import { describeUserAgent } from '../web/user-agent.ts';
import { accountFor, auditContext, sendPage, type Account, type AccountContextDeps } from './account-context.ts';
import { clearSessionCookie } from './session-cookie.ts';

export interface AccountSessionsRoutesDeps extends AccountContextDeps {
  authorizedApps(userId: string): Promise<AuthorizedApp[]>;
  /**
   * Ends every provider session and grant of the user and tells the apps (back-channel logout);
   * returns the apps that could not be told.
   */
  signOutOfApps(userId: string): Promise<UntoldApp[]>;
  /** The same for one app only: its grants and tokens end, and it is told (or it is returned). */
  signOutOfApp(userId: string, clientId: string): Promise<UntoldApp[]>;
  /** The apps a sign-out did not reach, parked sealed for the user across its redirect (reveal.ts). */
  signOutGaps: Reveal<SignOutGaps>;
}

type SessionParams = { Params: { id: string } };
type AppParams = { Params: { clientId: string } };

const DONE: Record<string, string> = {
  ended: 'That session was ended. The device must sign in again to use this account.',
  everywhere: 'You were signed out everywhere else, and of every app. This device is still signed in here.',
  'app-signed-out': 'You were signed out of that app. It asks you to sign in again next time.',
};
// The same when an app could not be told: the notice below them names it.
const DONE_WITH_GAPS: Record<string, string> = {
  everywhere: 'Your other sessions here ended, and every app that could be told signed you out. This device is still signed in here.',
  'app-signed-out': 'What that app was given to act for you no longer works, but it could not be told to sign you out.',
};
const doneNotice = (notices: Record<string, string>, done: string | undefined) => (done && Object.hasOwn(notices, done) ? notices[done] : null);

export function accountSessionsRoutes(app: FastifyInstance, deps: AccountSessionsRoutesDeps): void {
  const { identity } = deps;

  async function sessionOf(account: Account, sessionId: string) {
    const session = (await identity.sessions.listForUser(account.user.id)).find((s) => s.id === sessionId);
    if (!session) throw new AppError('session_not_found', 404, 'This session was not found. It may have ended already.');
    return session;
  }

  // `untold` is read only as a token of what this user's own sign-out parked, never as words.
  const afterSignOut = (account: Account, done: string, apps: UntoldApp[]) =>
    locationAfterSignOut(deps.signOutGaps, account.user.id, `/account/sessions?done=${done}`, { username: account.user.username, apps });

  app.get<{ Querystring: { done?: string; untold?: string } }>('/account/sessions', async (request, reply) => {
    const account = await accountFor(deps, request, reply);
    if (!account) return reply;
    const [sessions, apps] = await Promise.all([identity.sessions.listForUser(account.user.id), deps.authorizedApps(account.user.id)]);
    const { done } = request.query;
    const signOutGaps = doneNotice(DONE_WITH_GAPS, done) ? await signOutGapsOf(deps.signOutGaps, account.user.id, request.query.untold) : null;
    return sendPage(reply, sessionsPage({
      ...account.chrome, apps, notice: doneNotice(signOutGaps ? DONE_WITH_GAPS : DONE, done), signOutGaps,
      sessions: sessions
        .map((s) => ({ id: s.id, device: describeUserAgent(s.userAgent), userAgent: s.userAgent, ip: s.ip, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, current: s.id === account.sessionId }))
        .sort((a, b) => Number(b.current) - Number(a.current)),
    }));
  });

  app.get<SessionParams>('/account/sessions/:id/end', async (request, reply) => {
    const account = await accountFor(deps, request, reply);
    if (!account) return reply;
    const session = await sessionOf(account, request.params.id);
    return sendPage(reply, confirmPage({
      chrome: account.chrome, section: 'sessions', title: `End the session of ${describeUserAgent(session.userAgent)}?`,
      consequences: html`<p>That browser${session.ip ? html` (last seen from ${session.ip})` : ''} is signed out of your account and needs a passkey to sign in again.
        Apps already open there may stay signed in until they next check; to end those too, use “Sign out everywhere”.</p>`,
      action: `/account/sessions/${session.id}/end`, confirmLabel: 'End session', cancelHref: '/account/sessions',
    }));
  });

  app.post<SessionParams>('/account/sessions/:id/end', async (request, reply) => {
    assertSameOrigin(request, deps.csrf, formBody(request.body));
    const account = (await accountFor(deps, request, reply))!;
    const session = await sessionOf(account, request.params.id);
    await identity.sessions.destroyById(account.user.id, session.id);
    await identity.audit.record({ event: 'session_ended', ...auditContext(request, account.user.id), details: { current: session.id === account.sessionId } });
    if (session.id !== account.sessionId) return reply.redirect('/account/sessions?done=ended', 303);
    clearSessionCookie(reply, deps.secureCookies);
    return reply.redirect('/login', 303);
  });

  async function appOf(account: Account, clientId: string) {
    const found = (await deps.authorizedApps(account.user.id)).find((a) => a.clientId === clientId);
    if (!found) throw new AppError('app_not_found', 404, 'You are not signed in to this app. You may have been signed out of it already.');
    return found;
  }

  app.get<AppParams>('/account/apps/:clientId/sign-out', async (request, reply) => {
    const account = await accountFor(deps, request, reply);
    if (!account) return reply;
    const found = await appOf(account, request.params.clientId);
    return sendPage(reply, confirmPage({
      chrome: account.chrome, section: 'sessions', title: `Sign out of ${found.name}?`,
      consequences: html`<ul>
        <li>${found.name} is told to sign you out, on every device, and what it was given to act for you stops working. If it cannot be told, the next page says so.</li>
        <li>The next time you open it, it asks you to sign in again (with your passkey, through ${deps.appName}).</li>
        <li>You stay signed in here and in your other apps.</li>
      </ul>`,
      action: `/account/apps/${encodeURIComponent(found.clientId)}/sign-out`, confirmLabel: `Sign out of ${found.name}`, cancelHref: '/account/sessions',
    }));
  });

  app.post<AppParams>('/account/apps/:clientId/sign-out', async (request, reply) => {
    assertSameOrigin(request, deps.csrf, formBody(request.body));
    const account = (await accountFor(deps, request, reply))!;
    const found = await appOf(account, request.params.clientId);
    const untold = await deps.signOutOfApp(account.user.id, found.clientId);
    await identity.audit.record({ event: 'app_signed_out', ...auditContext(request, account.user.id), clientId: found.clientId });
    return reply.redirect(await afterSignOut(account, 'app-signed-out', untold), 303);
  });

  app.get('/account/sessions/sign-out-everywhere', async (request, reply) => {
    const account = await accountFor(deps, request, reply);
    if (!account) return reply;
    const others = (await identity.sessions.listForUser(account.user.id)).filter((s) => s.id !== account.sessionId).length;
    return sendPage(reply, confirmPage({
      chrome: account.chrome, section: 'sessions', title: 'Sign out everywhere?',
      consequences: html`<ul>
        <li>Your ${others === 1 ? 'other session ends' : html`${others} other sessions end`}: those browsers need a passkey to sign in again.</li>
        <li>Every app you signed in to through ${deps.appName} is told to sign you out, on every device including this one. The next page names any app that could not be told.</li>
        <li>This browser stays signed in here, so you can remove a lost device’s passkey next.</li>
      </ul>`,
      action: '/account/sessions/sign-out-everywhere', confirmLabel: 'Sign out everywhere', cancelHref: '/account/sessions',
    }));
  });

  app.post('/account/sessions/sign-out-everywhere', async (request, reply) => {
    assertSameOrigin(request, deps.csrf, formBody(request.body));
    const account = (await accountFor(deps, request, reply))!;
    await identity.sessions.destroyAllForUser(account.user.id, account.sessionId);
    const untold = await deps.signOutOfApps(account.user.id);
    await identity.audit.record({ event: 'signout_everywhere', ...auditContext(request, account.user.id) });
    return reply.redirect(await afterSignOut(account, 'everywhere', untold), 303);
  });
}
