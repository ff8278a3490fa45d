// What every /account route needs: the signed-in user (or a trip to the sign-in page), the page
// chrome, and a way to send a page that is never cached.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { csrfTokenFor, type CsrfOptions } from '../web/csrf.ts';
import type { AccountChrome } from '../web/pages/account-layout.ts';
import type { Identity } from './index.ts';
import { currentUser } from './routes.ts';
import { displayName, type User } from './users.ts';

export interface AccountContextDeps {
  identity: Identity;
  /** Read per request: an admin can change it (identity.settings). */
  readonly appName: string;
  secureCookies: boolean;
  csrf: CsrfOptions;
  /** The site `latchkey serve` runs beside, and whether a user has a passkey to come back with; null under `latchkey id`. */
  site: { url: string; hasPasskey(userId: string): Promise<boolean> } | null;
}

export interface Account {
  user: User;
  /** The id of the web session making this request ("this device"). */
  sessionId: string;
  chrome: AccountChrome;
}

export { sendPage } from '../web/send-page.ts';

/** The signed-in user; null after sending a GET to the sign-in page (with a way back). */
export async function accountFor(deps: AccountContextDeps, request: FastifyRequest, reply: FastifyReply): Promise<Account | null> {
  const signedIn = await currentUser(deps.identity, request, deps.secureCookies);
  if (!signedIn) {
    if (request.method !== 'GET') throw new AppError('unauthorized', 401, 'Your session has ended. Sign in again, then repeat what you were doing.');
    const path = request.url.split('?')[0];
    await reply.redirect(`/login?next=${encodeURIComponent(path)}`, 302);
    return null;
  }
  // Not before there is a passkey: someone who leaves for the site without one (from a one-time
  // link or a recovery code) cannot sign in again once this session ends.
  const siteUrl = deps.site && (await deps.site.hasPasskey(signedIn.user.id)) ? deps.site.url : null;
  const chrome = { appName: deps.appName, displayName: displayName(signedIn.user), isAdmin: signedIn.user.isAdmin, csrfToken: csrfTokenFor(request, reply, deps.csrf), siteUrl };
  return { ...signedIn, chrome };
}

/** The audit fields of a request made by the user. */
export const auditContext = (request: FastifyRequest, userId: string) => ({ userId, ip: request.ip, userAgent: request.headers['user-agent'] });
