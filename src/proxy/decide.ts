// The forward-auth decision as one pure function: the endpoints only translate it into 202/401/403.
import { type AccessRule, refusalReason } from './access-rule.ts';
import type { Revocations } from './revocations.ts';
import { isSessionExpired, type Session } from './session.ts';

export type Decision =
  | { kind: 'allow'; session: Session }
  | { kind: 'signin'; reason: 'no session' | 'expired' | 'revoked' }
  | { kind: 'deny'; reason: string };

/** `maxAgeSeconds`: the --cookie-expire in force, which also ends sessions sealed under a longer one (session.ts). */
export function decide(session: Session | null, rule: AccessRule, nowSeconds: number, revocations: Revocations, maxAgeSeconds: number): Decision {
  if (!session) return { kind: 'signin', reason: 'no session' };
  if (isSessionExpired(session, nowSeconds, maxAgeSeconds)) return { kind: 'signin', reason: 'expired' };
  if (revocations.isRevoked(session)) return { kind: 'signin', reason: 'revoked' };
  const reason = refusalReason(session, rule);
  return reason ? { kind: 'deny', reason } : { kind: 'allow', session };
}
