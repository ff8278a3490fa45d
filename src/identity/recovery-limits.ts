// How often recovery-code sign-in may be tried. The counters live in the ephemeral store, so every
// instance counts together; each is a fixed window that starts with its first attempt.
import { sha256Base64url } from '../core/crypto.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';

// A code has 60 bits; these limits leave an online guesser about 2^60 / (5 × 96 a day) days per
// account, while a person who mistypes a few times is not locked out for long.
export const RECOVERY_LIMITS = { perAccount: 5, perIp: 20, windowSeconds: 15 * 60 } as const;

export interface RecoveryAttempt {
  /** Over a limit: the attempt is refused without looking at the code. */
  refused: boolean;
  /**
   * The first refusal of its window: a limit was just passed (its count is one over) and no other
   * had been passed before. Only this one is audited; the refusals after it would each add a row
   * for nothing but a request, which anyone can send without signing in.
   */
  firstRefusal: boolean;
  counts: { perAccount: number; perIp: number };
}

/**
 * Counts one attempt. Per typed login, known or not, so the limit says nothing about who exists;
 * and per address. The store's increment is atomic, so of many concurrent refusals exactly one
 * sees a count of limit + 1.
 */
export async function countRecoveryAttempt(store: EphemeralStore, login: string, ip: string): Promise<RecoveryAttempt> {
  const { windowSeconds } = RECOVERY_LIMITS;
  const [perAccount, perIp] = await Promise.all([
    store.increment(`recovery-signin:login:${sha256Base64url(login.toLowerCase())}`, windowSeconds),
    store.increment(`recovery-signin:ip:${ip}`, windowSeconds),
  ]);
  const over = [perAccount - RECOVERY_LIMITS.perAccount, perIp - RECOVERY_LIMITS.perIp].filter((excess) => excess > 0);
  return { refused: over.length > 0, firstRefusal: over.length > 0 && over.every((excess) => excess === 1), counts: { perAccount, perIp } };
}
