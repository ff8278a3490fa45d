// How often recovery-code sign-in may be tried. The counters live in the ephemeral store, so every
// instance counts together; each is a fixed window that starts with its first attempt.
import { sha256Base64url } from '../core/crypto.ts';
import { addressLimitKey } from '../core/net.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';

// Three counters per attempt, each per 15 minutes:
// - per account and address, 5: a person who mistypes a few times waits at most 15 minutes;
// - per address, 20, over every account: one address cannot spray many accounts;
// - per account, 100, over every address: the bound on guessing. It is high so that others cannot
//   lock the owner out (an account-wide 5 let six wrong codes from anywhere do it): that now takes
//   wrong codes from 20 addresses in every window, while the owner's own address keeps its five.
// "Address" is an IPv4 address, or an IPv6 /64 (addressLimitKey in core/net.ts): a host is usually
// given a whole /64 and can send each attempt from a fresh address in it: counted one by one, the
// first two limits would not hold it back at all, and one machine could be the 20 addresses that
// lock an owner out. So those 20 are 20 IPv4 addresses or /64s; everyone behind one /64 (a home)
// shares its counts, as everyone behind one IPv4 address (a NAT) always did.
// The guessing arithmetic: a code is 12 characters of a 32-letter alphabet, 60 bits, and an account
// has up to ten, so one guess succeeds with probability 10 / 2^60 ≈ 8.7 × 10^-18. An account can be
// typed two ways (username and email, counted apart), so at most 2 × 100 × 96 = 19,200 guesses a
// day: about 6 × 10^-11 a year, one success in some 16 billion years.
export const RECOVERY_LIMITS = { perAccountAndIp: 5, perAccount: 100, perIp: 20, windowSeconds: 15 * 60 } as const;

export interface RecoveryAttempt {
  /** Over a limit: the attempt is refused without looking at the code. */
  refused: boolean;
  /**
   * The first refusal of its window: a limit was just passed (its count is one over) and no other
   * had been passed before. Only this one is audited; the refusals after it would each add a row
   * for nothing but a request, which anyone can send without signing in.
   */
  firstRefusal: boolean;
  counts: { perAccountAndIp: number; perAccount: number; perIp: number };
}

/**
 * Counts one attempt. "Account" is the login as typed, known or not, so the answers say nothing
 * about who exists. The store's increment is atomic, so of many concurrent refusals exactly one
 * sees a count of limit + 1.
 */
export async function countRecoveryAttempt(store: EphemeralStore, login: string, ip: string | undefined): Promise<RecoveryAttempt> {
  const { windowSeconds } = RECOVERY_LIMITS;
  const account = login.toLowerCase();
  const address = addressLimitKey(ip);
  const [perAccountAndIp, perAccount, perIp] = await Promise.all([
    // Hashed together: the key stays short whatever was typed.
    store.increment(`recovery-signin:login-ip:${sha256Base64url(`${account}\n${address}`)}`, windowSeconds),
    store.increment(`recovery-signin:login:${sha256Base64url(account)}`, windowSeconds),
    store.increment(`recovery-signin:ip:${address}`, windowSeconds),
  ]);
  const over = [
    perAccountAndIp - RECOVERY_LIMITS.perAccountAndIp,
    perAccount - RECOVERY_LIMITS.perAccount,
    perIp - RECOVERY_LIMITS.perIp,
  ].filter((excess) => excess > 0);
  return { refused: over.length > 0, firstRefusal: over.length > 0 && over.every((excess) => excess === 1), counts: { perAccountAndIp, perAccount, perIp } };
}
