// Turns a provider's answer into a session, applying oauth2-proxy's claim rules
// (providers/provider_data.go buildSessionFromClaims): the email claim (--oidc-email-claim),
// groups (--oidc-groups-claim; a string or a list), preferred_username, each named by a claim or
// a dotted path into one (claimAt); and an email_verified that is not explicitly false.
import { AppError } from '../core/errors.ts';
import type { ProxyConfig } from './config.ts';
import type { OidcTokens } from './oidc-client.ts';
import { type Session, sessionEndsAt } from './session.ts';
import { isJsonObject } from '../core/json-object.ts';

const text = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');


/**
 * The claim `name` names, as oauth2-proxy's claim extractor finds it (getClaimFrom): the claim of
 * exactly that name first (Auth0's "https://example.com/roles" has dots of its own), else the path
 * it spells split at its dots, through nested objects (Keycloak's "realm_access.roles"; no list
 * indexes). undefined when there is none; null counts as none, as it does there.
 */
export function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name] ?? undefined;
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (!isJsonObject(value) || !Object.hasOwn(value, part)) return undefined;
    value = value[part];
  }
  return value ?? undefined;
}

function groupsFrom(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(text).filter(Boolean);
  const single = text(value);
  return single ? [single] : [];
}

/** oauth2-proxy reads email_verified with Go's cast.ToBool: true, a non-zero number, or a string strconv.ParseBool takes as true. */
function isTrue(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  return typeof value === 'string' && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value);
}

export const emailNotVerified = () =>
  new AppError('email_not_verified', 403, 'Your email address is not verified with the identity provider, so you cannot sign in here.');

const DEFAULT_EMAIL_CLAIM = 'email';

export function sessionFromTokens(config: ProxyConfig, tokens: OidcTokens, nowSeconds: number, previous?: Session): Session {
  const { claims } = tokens;
  const sub = text(claims.sub) || previous?.sub || '';
  if (!sub) throw new AppError('missing_subject', 403, 'The identity provider did not say who you are.');
  if (previous && previous.sub !== sub) throw new AppError('subject_changed', 403, 'The identity provider answered for another user.');
  const claimedEmail = text(claimAt(claims, config.oidcEmailClaim));
  const email = claimedEmail || previous?.email || '';
  // As oauth2-proxy: only an email_verified present and not true refuses (many providers,
  // Microsoft Entra ID among them, never send the claim), and only for the default email claim
  // (with --oidc-email-claim=preferred_username, say, email_verified is about another value).
  // Checked on every refresh too (providers/oidc.go createSession): the address may have changed
  // since sign-in. Thrown here, it makes the refresher end the session (refresher.ts: 403 refused).
  const verifiedClaim = claimAt(claims, 'email_verified');
  if (config.oidcEmailClaim === DEFAULT_EMAIL_CLAIM && verifiedClaim !== undefined && !isTrue(verifiedClaim) && !config.insecureOidcAllowUnverifiedEmail) {
    throw emailNotVerified();
  }
  const groupsClaim = claimAt(claims, config.oidcGroupsClaim);
  return {
    sub,
    email,
    // what the provider said of the address; a refresh without an email claim keeps what sign-in learnt
    emailVerified: previous && !claimedEmail ? previous.emailVerified : isTrue(verifiedClaim),
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
