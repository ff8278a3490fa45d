// A set whose members are forgotten after a while, bounded in size: used to refuse a replayed
// OAuth state within its lifetime (the provider also refuses a reused code: RFC 6749 §4.1.2).
import type { Clock } from '../core/clock.ts';

export interface ExpiringSet {
  /** Adds `member`; returns false when it was already there (a replay). */
  add(member: string, ttlSeconds: number): boolean;
}

export function createExpiringSet(clock: Clock, maxEntries = 100_000): ExpiringSet {
  const forgetAtMs = new Map<string, number>();
  return {
    add(member, ttlSeconds) {
      const now = clock.nowMs();
      const existing = forgetAtMs.get(member);
      if (existing !== undefined && existing > now) return false;
      for (const [key, at] of forgetAtMs) {
        if (at > now) break; // insertion order ≈ expiry order for one ttl; stop at the first live entry
        forgetAtMs.delete(key);
      }
      while (forgetAtMs.size >= maxEntries) forgetAtMs.delete(forgetAtMs.keys().next().value as string);
      forgetAtMs.set(member, now + ttlSeconds * 1000);
      return true;
    },
  };
}
