// What the proxy remembers about a signed-in user, sealed inside the session cookie (no server
// state). Times are epoch seconds, like JWT iat/exp.
export interface Session {
  sub: string;
  email: string;
  emailVerified: boolean;
  preferredUsername: string;
  groups: string[];
  idToken: string;
  accessToken: string;
  refreshToken: string;
  /** The provider's session id (OIDC Back-Channel Logout §2.4), '' when it sent none. */
  sid: string;
  createdAt: number;
  /** The session ends here whatever the cookie's Max-Age says (the browser's copy can be kept longer). */
  expiresAt: number;
  /** When to use the refresh token next; 0 = never. */
  refreshAt: number;
}

const VERSION = 1;

// A positional array keeps the cookie small: every byte here is repeated in every request.
export function sessionToJson(s: Session): string {
  return JSON.stringify([VERSION, s.sub, s.email, s.emailVerified ? 1 : 0, s.preferredUsername, s.groups,
    s.idToken, s.accessToken, s.refreshToken, s.sid, s.createdAt, s.expiresAt, s.refreshAt]);
}

/** Returns null for anything that is not a session this version wrote. */
export function sessionFromJson(text: string): Session | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 13 || value[0] !== VERSION) return null;
  const [, sub, email, emailVerified, preferredUsername, groups, idToken, accessToken, refreshToken, sid, createdAt, expiresAt, refreshAt] = value;
  if (typeof sub !== 'string' || typeof email !== 'string' || typeof preferredUsername !== 'string') return null;
  if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) return null;
  if (typeof idToken !== 'string' || typeof accessToken !== 'string' || typeof refreshToken !== 'string' || typeof sid !== 'string') return null;
  if (!Number.isFinite(createdAt) || !Number.isFinite(expiresAt) || !Number.isFinite(refreshAt)) return null;
  return { sub, email, emailVerified: emailVerified === 1, preferredUsername, groups, idToken, accessToken, refreshToken, sid, createdAt, expiresAt, refreshAt };
}

/** Who the session's owner is, in the words they know best: for pages that say who is signed in. */
export const signedInName = (s: Pick<Session, 'preferredUsername' | 'email' | 'sub'>): string => s.preferredUsername || s.email || s.sub;

/**
 * Ended at the end sealed in at sign-in, or once older than `maxAgeSeconds`: the --cookie-expire
 * in force now, so lowering it (and restarting) shortens sessions already issued, as in
 * oauth2-proxy, whose session stores check the cookie's signed time against the current
 * --cookie-expire on every load. Measured from sign-in, as the sealed end is: with the setting
 * unchanged both are the same second. (oauth2-proxy's time moves on at each refresh; here a refresh
 * never extends a session, session-from-tokens.ts.)
 */
export const isSessionExpired = (s: Session, nowSeconds: number, maxAgeSeconds: number): boolean =>
  nowSeconds >= s.expiresAt || nowSeconds - s.createdAt >= maxAgeSeconds;

/** When the session ends under a --cookie-expire of `maxAgeSeconds` (see isSessionExpired). */
export const sessionEndsAt = (s: Session, maxAgeSeconds: number): number => Math.min(s.expiresAt, s.createdAt + maxAgeSeconds);

export const isRefreshDue = (s: Session, nowSeconds: number): boolean =>
  s.refreshAt > 0 && s.refreshToken !== '' && nowSeconds >= s.refreshAt;
