import { open, seal, sha256Base64url } from '../core/crypto.ts';
import { randomToken } from '../core/random.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';

// Secrets shown once (a client secret, an API key, a one-time link) follow Post/Redirect/Get: the
// POST that makes one parks it here and redirects to a page with `?reveal=TOKEN`; that page takes
// it out. A reload finds nothing, so the secret appears exactly once, and no form is re-posted.
// The parked value is sealed with a key derived from ENCRYPTION_KEY and bound to the admin who
// made it, so neither the store's contents nor a leaked URL show it to anyone else.

const TTL_SECONDS = 10 * 60;

export interface Reveal {
  park(adminId: string, value: Record<string, string>): Promise<string>;
  take(adminId: string, token: string | undefined): Promise<Record<string, string> | null>;
}

export function createReveal(deps: { store: EphemeralStore; key: Buffer }): Reveal {
  const storeKey = (token: string) => `admin-reveal:${sha256Base64url(token)}`;
  return {
    async park(adminId, value) {
      const token = randomToken(24);
      const sealed = seal(deps.key, Buffer.from(JSON.stringify(value)), Buffer.from(adminId));
      await deps.store.put(storeKey(token), sealed.toString('base64'), TTL_SECONDS);
      return token;
    },
    async take(adminId, token) {
      if (!token || token.length > 100) return null;
      const parked = await deps.store.take(storeKey(token));
      if (!parked) return null;
      const opened = open(deps.key, Buffer.from(parked, 'base64'), Buffer.from(adminId));
      return opened ? JSON.parse(opened.toString('utf8')) as Record<string, string> : null;
    },
  };
}
