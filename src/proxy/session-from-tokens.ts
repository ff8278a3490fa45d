// Turns a provider's answer into a session, applying oauth2-proxy's claim rules: the email claim
// (--oidc-email-claim), groups (--oidc-groups-claim; a string or a list), preferred_username, and
// a verified email unless --insecure-oidc-allow-unverified-email.
import { AppError } from '../core/errors.ts';
import type { ProxyConfig } from './config.ts';
import type { OidcTokens } from './oidc-client.ts';
import { type Session, sessionEndsAt } from './session.ts';

const text = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');

function groupsFrom(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(text).filter(Boolean);
  const single = text(value);
  return single ? [single] : [];
}

export const emailNotVerified = () =>
  new AppError('email_not_verified', 403, 'Your email address is not verified with the identity provider, so you cannot sign in here.');

export function sessionFromTokens(config: ProxyConfig, tokens: OidcTokens, nowSeconds: number, previous?: Session): Session {
  const { claims } = tokens;
  const sub = text(claims.sub) || previous?.sub || '';
  if (!sub) throw new AppError('missing_subject', 403, 'The identity provider did not say who you are.');
  if (previous && previous.sub !== sub) throw new AppError('subject_changed', 403, 'The identity provider answered for another user.');
  const claimedEmail = text(claims[config.oidcEmailClaim]);
  const email = claimedEmail || previous?.email || '';
  const emailVerified = claims.email_verified === true || claims.email_verified === 'true';
  // Stricter than oauth2-proxy (which refuses only an explicit false): an unproven email must not
  // pass an email-domain rule. Checked on every refresh that names an email too, as oauth2-proxy
  // does (providers/oidc.go createSession → buildSessionFromClaims): the address may have changed
  // since sign-in. Thrown here, it makes the refresher end the session (refresher.ts: 403 refused).
  if (claimedEmail && !emailVerified && !config.insecureOidcAllowUnverifiedEmail) throw emailNotVerified();
  const groupsClaim = claims[config.oidcGroupsClaim];
  return {
    sub,
    email,
    // a refresh without an email claim keeps the address sign-in proved, and what was proved of it
    emailVerified: previous && !claimedEmail ? previous.emailVerified : emailVerified,
    preferredUsername: text(claims.preferred_username) || previous?.preferredUsername || '',
    groups: groupsClaim === undefined && previous ? previous.groups : groupsFrom(groupsClaim),
    idToken: tokens.idToken || previous?.idToken || '',
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    sid: text(claims.sid) || previous?.sid || '',
    createdAt: previous?.createdAt ?? nowSeconds,
    // A refresh does not extend the session: it ends cookie.expireSeconds after sign-in, by the
    // setting in force now when that is shorter than the one it was sealed under (session.ts).
    expiresAt: previous ? sessionEndsAt(previous, config.cookie.expireSeconds) : nowSeconds + config.cookie.expireSeconds,
    refreshAt: config.cookie.refreshSeconds > 0 && tokens.refreshToken ? nowSeconds + config.cookie.refreshSeconds : 0,
  };
}
