// The /oauth2/auth check as a plain function, so nginx/Caddy (over HTTP) and serve mode
// (in-process) share one code path. It answers only 202, 401 or 403: nginx's auth_request turns
// anything else into a 500. For a cookie session it does no I/O unless a refresh is due or the
// session ends (expired, revoked, refused by the configured rules: its deletion), and
// checkAuthNow gives the other answers without a promise; a Redis session costs one GET.
import { isCountedOutage } from '../core/outage-log.ts';
import { type Decision, decide } from './decide.ts';
import { parseCookieHeader } from './cookie-header.ts';
import type { ProxyRuntime } from './proxy-runtime.ts';
import type { SessionStore } from './session-store.ts';
import { isRefreshDue, isSessionExpired, type Session } from './session.ts';

export interface AuthCheckInput {
  /** The Cookie header of the browser's request. */
  cookieHeader: string | undefined;
  /** The /oauth2/auth query string without '?' (allowed_groups, allowed_emails, allowed_email_domains); '' for none. */
  rawQuery: string;
  /** The browser-facing host (for the cookie Domain of a refreshed session). */
  host: string;
  /**
   * The browser asked for a --skip-auth-route path (auth-endpoint.ts): nobody is refused. An
   * allowed session still gets its identity headers; what would be 401 or 403 is 202 without
   * them, as oauth2-proxy's AuthOnly answers a request it lets through without a session.
   */
  skipAuth?: boolean;
}

export interface AuthCheckResult {
  status: 202 | 401 | 403;
  /** Identity headers to add to a 202 (X-Auth-Request-*, Authorization), per configuration. */
  headers: Record<string, string>;
  /** Set-Cookie lines: a refreshed session, or the deletion of one that ended. */
  setCookies: string[];
  /**
   * The allowed session (202); the refused one (403, or 401 when the configured rules refuse the
   * account and the session is ended: the upstream mode's refusal page names it); else null.
   */
  session: Session | null;
}

const NONE: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_COOKIES: string[] = [];

/** Tells the runtime's observer (metrics, the debug log), when there is one; returns the result. */
function observed(rt: ProxyRuntime, result: AuthCheckResult, reason: string): AuthCheckResult {
  if (rt.authObserver) rt.authObserver(result.status, result.session, reason);
  return result;
}

export async function checkAuth(rt: ProxyRuntime, input: AuthCheckInput): Promise<AuthCheckResult> {
  const sent = parseCookieHeader(input.cookieHeader);
  let session = await rt.sessions.read(sent);
  let setCookies = NO_COOKIES;
  const now = rt.nowSeconds();

  if (session && refreshWanted(rt, session, now)) {
    const outcome = await rt.refresher.refresh(session);
    if (outcome.kind === 'refreshed') {
      session = outcome.session;
      const attrs = rt.cookieAttributes(input.host);
      setCookies = await rt.sessions.write(session, attrs, Math.max(1, session.expiresAt - now), rt.clock.nowMs(), sent);
    } else if (outcome.kind === 'refused') {
      // The provider no longer vouches for this user (revoked grant, disabled account): end the session.
      rt.logger.info({ sub: session.sub }, 'session refresh refused; signing out');
      return observed(rt, { status: input.skipAuth ? 202 : 401, headers: NONE, setCookies: await rt.sessions.clear(rt.cookieAttributes(input.host), sent), session: null }, 'refresh refused');
    } else {
      // Not refreshed this time (the provider unreachable, or another instance still refreshing it):
      // keep the still-valid session and try again on a later check. The cause says which; the
      // refresher's outage log has told of an unreachable provider already.
      if (!isCountedOutage(outcome.cause)) rt.logger.warn({ err: outcome.cause }, 'session not refreshed this time; keeping it until a later check');
    }
  }

  const decision = decide(session, rt.ruleFor(input.rawQuery), now, rt.revocations, rt.config.cookie.expireSeconds);
  // An ended session (expired, revoked, or one the configured rules refuse) is deleted so the
  // browser stops sending it; a 401, which nginx's error_page turns into a new sign-in.
  if (endsSession(decision)) {
    const refused = decision.kind === 'invalid' && input.skipAuth !== true ? decision.session : null;
    return observed(rt, { status: input.skipAuth ? 202 : 401, headers: NONE, setCookies: await rt.sessions.clear(rt.cookieAttributes(input.host), sent), session: refused }, decision.reason);
  }
  return settled(rt, decision, session, setCookies, input.skipAuth === true);
}

/**
 * checkAuth's answer without waiting, when it needs no I/O: the session store reads the cookie
 * itself (not Redis), no refresh is due and no cookie has to be deleted, which is every check of
 * a signed-in browser between refreshes. undefined means "ask checkAuth()". Where this answers, it
 * answers as checkAuth would (test/unit/proxy-auth-check.test.ts runs both): the same decide(), so
 * expiry, revocations and the rule are checked on every call. Needs no host: only Set-Cookie does.
 */
export function checkAuthNow(rt: ProxyRuntime, cookieHeader: string | undefined, rawQuery: string, connection?: object, skipAuth = false): AuthCheckResult | undefined {
  const readNow = rt.sessions.readNow;
  if (readNow === undefined) return undefined;
  const session = connection === undefined || cookieHeader === undefined
    ? readNow(parseCookieHeader(cookieHeader))
    : sessionOnConnection(rt.sessions, readNow, cookieHeader, connection);
  const now = rt.nowSeconds();
  if (session && refreshWanted(rt, session, now)) return undefined;
  const decision = decide(session, rt.ruleFor(rawQuery), now, rt.revocations, rt.config.cookie.expireSeconds);
  if (endsSession(decision)) return undefined;
  return settled(rt, decision, session, NO_COOKIES, skipAuth);
}

// A browser sends the same Cookie header on every request of a keep-alive connection, so what it
// opened to is remembered per connection (the socket) and recognised by comparing the header
// itself: no parsing, and no hashing of a ~2 KB string for the codec's memory. Only a session the
// store returned for exactly this header is kept (readNow is a pure function of the header), so
// nothing changes but the cost: decide() still checks expiry, revocations and the rule each time.
interface Remembered {
  store: SessionStore;
  header: string;
  session: Session;
}
const byConnection = new WeakMap<object, Remembered>();

function sessionOnConnection(store: SessionStore, readNow: NonNullable<SessionStore['readNow']>, header: string, connection: object): Session | null {
  const last = byConnection.get(connection);
  if (last !== undefined && last.header === header && last.store === store) return last.session;
  const session = readNow(parseCookieHeader(header));
  if (session === null) return null;
  if (last === undefined) byConnection.set(connection, { store, header, session });
  else {
    last.store = store;
    last.header = header;
    last.session = session;
  }
  return session;
}

/**
 * A live session whose refresh time has come, or that was last checked with the provider before
 * this process started: a back-channel logout heard by the previous process is forgotten, so a
 * disabled user's cookie would otherwise work again until its refresh fell due (up to
 * --cookie-refresh after every restart). An ended one is not refreshed, it is deleted.
 */
const refreshWanted = (rt: ProxyRuntime, session: Session, now: number): boolean =>
  (isRefreshDue(session, now) || checkedBeforeStart(rt, session)) && !isSessionExpired(session, now, rt.config.cookie.expireSeconds) && !rt.revocations.isRevoked(session);

// A refreshable session was last checked --cookie-refresh before its refreshAt.
const checkedBeforeStart = (rt: ProxyRuntime, session: Session): boolean =>
  session.refreshAt > 0 && session.refreshToken !== '' && session.refreshAt - rt.config.cookie.refreshSeconds < rt.startedAtSeconds;

// One comparison for an allowed session, as before the configured rules could end one.
const endsSession = (decision: Decision): decision is Decision & { kind: 'signin' | 'invalid' } =>
  decision.kind !== 'allow' && (decision.kind === 'invalid' || (decision.kind === 'signin' && decision.reason !== 'no session'));

/** The result of a decision that deletes no cookie: allowed, refused, or no session at all. */
function settled(rt: ProxyRuntime, decision: Decision, session: Session | null, setCookies: string[], skipAuth: boolean): AuthCheckResult {
  if (decision.kind === 'allow') return observed(rt, { status: 202, headers: rt.identityHeaders(decision.session), setCookies, session: decision.session }, 'allowed');
  if (skipAuth) return observed(rt, { status: 202, headers: NONE, setCookies, session: null }, `${decision.reason} (skip-auth-route)`);
  if (decision.kind === 'deny') return observed(rt, { status: 403, headers: NONE, setCookies, session }, decision.reason);
  return observed(rt, { status: 401, headers: NONE, setCookies, session: null }, decision.reason);
}
