// The proxy's HTTP surface, oauth2-proxy v7's endpoints under --proxy-prefix (default /oauth2).
// The only file of the feature that knows fastify: each handler translates one call.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sha256Base64url } from '../core/crypto.ts';
import { AppError, unauthorized } from '../core/errors.ts';
import { sendError, wantsHtml } from '../web/error-handler.ts';
import { authAnswer } from './auth-endpoint.ts';
import { parseCookieHeader } from './cookie-header.ts';
import { decide } from './decide.ts';
import { isNavigation } from './navigation.ts';
import { CLOCK_TOLERANCE_SECONDS, LOGOUT_TOKEN_MAX_AGE_SECONDS } from './oidc-client.ts';
import { peerOf } from './peer.ts';
import { notAllowedPage, proxyErrorPage, signInPage, signOutConfirmPage } from './pages.ts';
import type { ProxyRuntime } from './proxy-runtime.ts';
import { type BrowserRequest, FlowError, findRedirect, finishSignIn, signOut, startSignIn } from './sign-in.ts';
import { upstreamRoutes } from './upstream-routes.ts';
import { sendPage } from '../web/send-page.ts';

/** How long a logout token's jti is remembered: as long as verifyLogoutToken could still accept it. */
const LOGOUT_TOKEN_MEMORY_SECONDS = LOGOUT_TOKEN_MAX_AGE_SECONDS + 2 * CLOCK_TOLERANCE_SECONDS;

/** A sign-out form's body holds rd and little else; an address longer than this is no use anyway. */
const SIGN_OUT_FORM_MAX_BYTES = 16 * 1024;
const ROBOTS_PATH = '/robots.txt';
/** oauth2-proxy's robots.txt (pkg/app/pagewriter). */
const ROBOTS_TXT = 'User-agent: *\nDisallow: /\n';

const rawQueryOf = (url: string): string => {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
};

/**
 * `answerOtherPaths` (default true): send every other path to the --upstream servers as
 * oauth2-proxy does; serve mode, which serves the site itself, turns it off.
 */
export function proxyRoutes(rt: ProxyRuntime, options: { answerOtherPaths?: boolean } = {}) {
  const { config } = rt;
  const prefix = config.proxyPrefix;

  const browserRequest = (request: FastifyRequest): BrowserRequest => ({
    origin: rt.origin({ ...peerOf(request.socket), headers: request.headers, url: request.url }),
    headers: request.headers,
    sent: parseCookieHeader(request.headers.cookie),
    query: new URLSearchParams(rawQueryOf(request.url)),
  });

  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  const redirect = (reply: FastifyReply, result: { location: string; setCookies: string[] }) => {
    noStore(reply);
    if (result.setCookies.length) reply.header('set-cookie', result.setCookies);
    return reply.redirect(result.location, 302);
  };

  /**
   * Where "sign out" leads from the refusal page. Signing out of the site alone would not switch
   * accounts: the provider still knows the browser and signs the same account straight back in.
   * So it continues to the provider's end_session_endpoint (RP-Initiated Logout, with client_id
   * so the provider knows who asks), which sign_out accepts as a target (redirect.ts).
   */
  const switchAccountPath = () => {
    const endSession = rt.oidc.endSessionEndpoint;
    if (!endSession) return `${prefix}/sign_out`;
    const logout = new URL(endSession);
    logout.searchParams.set('client_id', rt.config.clientId);
    return `${prefix}/sign_out?rd=${encodeURIComponent(logout.href)}`;
  };

  /**
   * A signed-in account the access rules refuse: a browser gets a page saying who it is signed in
   * as and how to switch accounts; a program gets the JSON error. `returnTo` (a validated target):
   * the page also offers to sign out and back in to it, for access granted since the session began.
   */
  const notAllowed = (request: FastifyRequest, reply: FastifyReply, error: AppError, signedInAs: string, returnTo?: string) => {
    if (!wantsHtml(request)) return sendError(request, reply, error);
    request.log.info({ code: error.code, status: 403 }, 'request refused');
    const signInAgainPath = returnTo ? `${prefix}/sign_out?rd=${encodeURIComponent(returnTo)}` : undefined;
    const page = notAllowedPage({ signedInAs, signOutPath: switchAccountPath(), signInAgainPath });
    return sendPage(reply, page, 403);
  };

  const flow = async (request: FastifyRequest, reply: FastifyReply, run: () => Promise<{ location: string; setCookies: string[] }>) => {
    try {
      return redirect(reply, await run());
    } catch (error) {
      if (!(error instanceof FlowError)) throw error;
      if (error.setCookies.length) reply.header('set-cookie', error.setCookies);
      const refused = error.error.code === 'not_allowed' ? error.error.details?.signedInAs : undefined;
      if (typeof refused === 'string') return notAllowed(request, reply, error.error, refused);
      return sendError(request, reply, error.error, proxyErrorPage);
    }
  };

  return async function plugin(app: FastifyInstance) {
    // nginx auth_request / Caddy forward_auth. Only 202, 401 or 403, never a redirect. Every
    // method gets the same answer, as from authFastPath (auth-endpoint.ts, which says why).
    await app.register(async (auth) => {
      // The body is never read, so no parser may refuse it first (415, 400) either; and fastify's
      // own refusal of a Content-Type nobody could parse (";;"), which comes before any parser,
      // gets the answer too.
      auth.removeAllContentTypeParsers();
      auth.addContentTypeParser('*', (_request, _payload, done) => done(null));
      const answer = async (request: FastifyRequest, reply: FastifyReply) => {
        const { status, headers } = await authAnswer(rt, request.raw, rawQueryOf(request.url), request.log);
        return reply.code(status).headers(headers).send();
      };
      auth.setErrorHandler((_error, request, reply) => answer(request, reply));
      auth.all(`${prefix}/auth`, answer);
    });

    app.get(`${prefix}/start`, (request, reply) => flow(request, reply, () => startSignIn(rt, browserRequest(request))));

    app.get(`${prefix}/sign_in`, async (request, reply) => {
      const browser = browserRequest(request);
      if (config.skipProviderButton) {
        // nginx's error_page 401 brings every signed-out request here, images included (navigation.ts)
        if (!isNavigation(request.headers)) throw unauthorized();
        return flow(request, reply, () => startSignIn(rt, browser));
      }
      return sendPage(reply, signInPage({ startPath: `${prefix}/start`, redirect: findRedirect(rt, browser) }));
    });

    app.get(`${prefix}/callback`, (request, reply) => flow(request, reply, () => finishSignIn(rt, browserRequest(request))));

    // Asked from another site (an <img>, a link, a form there: logout CSRF, cross-site.ts), nothing
    // is signed out: a page asks, and its button posts back here with the same validated rd.
    // A cross-site form POST is the same attack as the <img>, so POST meets the same check. The
    // page's own form posts from this origin, so the browser marks it same-origin and it passes, as
    // do sign-out forms on the site's own pages, oauth2-proxy style. No token in the form: the
    // site's own forms have none, and it would guard only against a browser that sends neither
    // Sec-Fetch-Site nor Origin with a POST (none since 2019). Nor SameSite: the session cookie
    // has none by default (oauth2-proxy's), and only Chrome then treats it as Lax.
    const signOutHandler = async (request: FastifyRequest, reply: FastifyReply) => {
      const form = request.body instanceof URLSearchParams ? request.body : undefined;
      const result = await signOut(rt, { ...browserRequest(request), form });
      if (result.kind === 'signed_out') return redirect(reply, result);
      return sendPage(reply, signOutConfirmPage({ action: `${prefix}/sign_out?rd=${encodeURIComponent(result.target)}` }));
    };
    // rd may come in a form's body, as oauth2-proxy reads it (req.Form): only a urlencoded body is
    // read, and only a small one (413 past SIGN_OUT_FORM_MAX_BYTES); any other body is left unread,
    // as Go's ParseForm leaves it, rather than refused.
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: SIGN_OUT_FORM_MAX_BYTES },
        (_request, body, done) => done(null, new URLSearchParams(body as string)));
      scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
      scope.get(`${prefix}/sign_out`, signOutHandler);
      scope.post(`${prefix}/sign_out`, signOutHandler);
    });

    // oauth2-proxy's UserInfo: 401 for whatever getAuthenticatedSession refuses, including an
    // account the configured rules refuse, whose session (like an expired one) is deleted.
    app.get(`${prefix}/userinfo`, async (request, reply) => {
      const sent = parseCookieHeader(request.headers.cookie);
      const session = await rt.sessions.read(sent);
      const decision = decide(session, rt.ruleFor(''), rt.nowSeconds(), rt.revocations, config.cookie.expireSeconds);
      noStore(reply);
      if (decision.kind !== 'allow') {
        if (session) reply.header('set-cookie', await rt.sessions.clear(rt.cookieAttributes(browserRequest(request).origin.host), sent));
        throw new AppError('unauthorized', 401, 'Please sign in first.');
      }
      const s = decision.session;
      return reply.send({ user: s.sub, email: s.email, groups: s.groups, preferredUsername: s.preferredUsername });
    });

    // OIDC Back-Channel Logout 1.0 §2.8: 200 when the session is ended, 400 for a bad token.
    app.post(`${prefix}/backchannel-logout`, async (request, reply) => {
      const body = request.body as Record<string, unknown> | undefined;
      const token = typeof body?.logout_token === 'string' ? body.logout_token : '';
      noStore(reply);
      if (!token) throw new AppError('invalid_request', 400, 'A logout_token is required.');
      const claims = await rt.oidc.verifyLogoutToken(token);
      // A token seen before is a replay: ending sessions again would end sign-ins made since the
      // logout. Remembered here and, with Redis, for every instance, longer than such a token lives.
      const seen = `logout-token:${sha256Base64url(claims.jti)}`;
      if (!rt.usedStates.add(seen, LOGOUT_TOKEN_MEMORY_SECONDS) || !(await rt.sessions.claimState(seen, LOGOUT_TOKEN_MEMORY_SECONDS))) {
        request.log.info({ sid: claims.sid, sub: claims.sub }, 'back-channel logout token seen before; nothing ended again');
        return reply.code(200).send();
      }
      rt.revocations.revoke(claims);
      await rt.sessions.endSessions(claims);
      request.log.info({ sid: claims.sid, sub: claims.sub }, 'back-channel logout');
      return reply.code(200).send();
    });

    // As oauth2-proxy, before any sign-in (its router's first route): crawlers keep out of a
    // private site, and in upstream mode do not index the sign-in page under every address.
    if (config.pingPath !== ROBOTS_PATH && config.readyPath !== ROBOTS_PATH) {
      app.get(ROBOTS_PATH, async (_request, reply) => reply.type('text/plain; charset=utf-8').send(ROBOTS_TXT));
    }

    app.get(config.pingPath, async (_request, reply) => noStore(reply).type('text/plain').send('OK'));
    // Ready: the provider's discovery is loaded and, as oauth2-proxy checks, the session store answers.
    app.get(config.readyPath, async (_request, reply) => {
      const problem = !rt.oidc.isReady ? 'discovery not loaded'
        : await rt.sessions.verifyConnection?.().then(() => null, () => 'session store unreachable') ?? null;
      return noStore(reply).type('text/plain').code(problem ? 503 : 200).send(problem ?? 'OK');
    });

    // Every other path goes to the --upstream servers, behind a sign-in (upstream-routes.ts);
    // serve mode, which serves the site itself, turns this off.
    if (config.upstreams.length > 0 && options.answerOtherPaths !== false) {
      await app.register(upstreamRoutes(rt, { browserRequest, flow, notAllowed }));
    }
  };
}
