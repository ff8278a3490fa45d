// Sessions ended by the provider through OIDC Back-Channel Logout (§2.7: the RP must end the
// session for the sid, or for every session of the sub). Cookie sessions live in the browser,
// so the proxy keeps a deny-list in memory and /oauth2/auth consults it without I/O.
// Each entry lives as long as a cookie could (cookie.expireSeconds), then is forgotten.
// Known limit: in-memory, so every proxy instance must receive the logout (one instance is the norm).
import type { Clock } from '../core/clock.ts';

export interface Revocations {
  revoke(claims: { sid?: string; sub?: string }): void;
  /** Whether a session created at `createdAt` (epoch seconds) was ended later by the provider. */
  isRevoked(session: { sid: string; sub: string; createdAt: number }): boolean;
  readonly size: number;
}

const MAX_ENTRIES = 100_000;

export function createRevocations(clock: Clock, lifetimeSeconds: number): Revocations {
  // key → [revokedAt seconds, forgetAt ms]
  const entries = new Map<string, [number, number]>();

  const prune = () => {
    const now = clock.nowMs();
    for (const [key, [, forgetAtMs]] of entries) if (forgetAtMs <= now) entries.delete(key);
    // Oldest first (insertion order): under a flood, forget the oldest rather than grow without bound.
    while (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
  };

  const revokedAfter = (key: string, createdAt: number): boolean => {
    const entry = entries.get(key);
    return entry !== undefined && createdAt <= entry[0] && entry[1] > clock.nowMs();
  };

  return {
    revoke({ sid, sub }) {
      prune();
      const nowMs = clock.nowMs();
      const entry: [number, number] = [Math.floor(nowMs / 1000), nowMs + lifetimeSeconds * 1000];
      // A sid names one provider session; a logout token with only sub ends all of the user's.
      if (sid) entries.set(`sid:${sid}`, entry);
      else if (sub) entries.set(`sub:${sub}`, entry);
    },
    isRevoked(session) {
      if (entries.size === 0) return false;
      return (session.sid !== '' && revokedAfter(`sid:${session.sid}`, session.createdAt)) ||
        revokedAfter(`sub:${session.sub}`, session.createdAt);
    },
    get size() {
      return entries.size;
    },
  };
}
