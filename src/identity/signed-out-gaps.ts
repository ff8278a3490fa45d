// "Sign out here" (POST /logout) ends this browser's provider session and tells the apps it was used
// with (back-channel logout). An app that could not be told (unreachable, or without a back-channel
// logout URI) still lets the person in, so the page after it names that app as /account/sessions
// does (untold-apps.ts). That page is /login, where nobody is signed in: the apps are sealed for
// this browser instead of a user, for a random reader id in a cookie only /login receives, which
// lives as long as the parked notice. A link to /login?untold=… names no app in another browser.
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomToken } from '../core/random.ts';
import { locationAfterSignOut, signOutGapsOf, type SignOutGaps, type SignOutGapsView } from '../oidc/untold-apps.ts';
import type { Reveal } from '../web/reveal.ts';

const READER_COOKIE = 'latchkey_signed_out';

export interface SignedOutGaps {
  /** Where to send the browser after "Sign out here": /login, with the apps that were not told parked for it. */
  location(reply: FastifyReply, gaps: SignOutGaps): Promise<string>;
  /** What /login shows for its query's `untold` (absent: nothing). */
  view(request: FastifyRequest, token: string | undefined): Promise<SignOutGapsView>;
}

export function createSignedOutGaps(deps: { parked: Reveal<SignOutGaps>; secureCookies: boolean }): SignedOutGaps {
  return {
    async location(reply, gaps) {
      if (!gaps.apps.length) return '/login';
      const reader = randomToken(24);
      reply.setCookie(READER_COOKIE, reader, { path: '/login', httpOnly: true, sameSite: 'lax', secure: deps.secureCookies, maxAge: 600 });
      return locationAfterSignOut(deps.parked, reader, '/login', gaps);
    },
    async view(request, token) {
      if (token === undefined) return null;
      const reader = request.cookies[READER_COOKIE];
      return reader ? signOutGapsOf(deps.parked, reader, token) : 'unknown';
    },
  };
}
