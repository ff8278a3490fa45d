// The forward-auth decision as one pure function: the endpoints only translate it into 202/401/403.
import { type AccessRule, refusalReason } from './access-rule.ts';
import type { Revocations } from './revocations.ts';
import { isSessionExpired, type Session } from './session.ts';

export type Decision =
  | { kind: 'allow'; session: Session }
  | { kind: 'signin'; reason: 'no session' | 'expired' | 'revoked' }
  /**
   * The configured rules (--email-domain, --authenticated-emails-file, --allowed-group) refuse the
   * account, so no request can pass with this session: it is ended, and /oauth2/auth answers 401,
   * as oauth2-proxy's getAuthenticatedSession clears an "invalid session" and AuthOnly answers 401.
   */
  | { kind: 'invalid'; session: Session; reason: string }
  /** A per-request rule (allowed_groups=… in the /oauth2/auth query) refuses it: 403, the session stays. */
  | { kind: 'deny'; reason: string };

/** `maxAgeSeconds`: the --cookie-expire in force, which also ends sessions sealed under a longer one (session.ts). */
export function decide(session: Session | null, rule: AccessRule, nowSeconds: number, revocations: Revocations, maxAgeSeconds: number): Decision {
  if (!session) return { kind: 'signin', reason: 'no session' };
  if (isSessionExpired(session, nowSeconds, maxAgeSeconds)) return { kind: 'signin', reason: 'expired' };
  if (revocations.isRevoked(session)) return { kind: 'signin', reason: 'revoked' };
  const reason = refusalReason(session, rule);
  if (reason === null) return { kind: 'allow', session };
  return refusedByConfiguredRules(session, rule) ? { kind: 'invalid', session, reason } : { kind: 'deny', reason };
}

/** Only on the refusing path: an allowed session never gets here. */
function refusedByConfiguredRules(session: Session, rule: AccessRule): boolean {
  if (rule.queryGroups === null && rule.queryEmails === null && rule.queryEmailDomains === null) return true;
  return refusalReason(session, { ...rule, queryGroups: null, queryEmails: null, queryEmailDomains: null }) !== null;
}
