import { deriveKey, open, seal, sha256Base64url } from '../core/crypto.ts';
import { randomToken } from '../core/random.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';

// Secrets shown once (a client secret, an API key, a one-time link) follow Post/Redirect/Get: the
// POST that makes one parks it here and redirects to a page with `?reveal=TOKEN`; that page takes
// it out. A reload finds nothing, so the secret appears exactly once, and no form is re-posted.
// The parked value is sealed with a key derived from ENCRYPTION_KEY and bound to its owner (the
// admin who made it, the user who acted), so neither the store's contents nor a leaked URL show it
// to anyone else. The same carries a notice whose words come from the action (which apps could not
// be told of a sign-out, in the admin console and on /account/sessions): the page reads it, never
// the query string, so no crafted link can put words there.

const TTL_SECONDS = 10 * 60;

export interface Reveal<T = Record<string, string>> {
  park(ownerId: string, value: T): Promise<string>;
  /** Once: a second take of the same token finds nothing. */
  take(ownerId: string, token: string | undefined): Promise<T | null>;
  /** Again and again until it expires: for a notice a reload should still show, never for a secret. */
  read(ownerId: string, token: string | undefined): Promise<T | null>;
}

/**
 * `purpose` names both the sealing key (derived from ENCRYPTION_KEY) and the store's namespace, so
 * a token of one use never opens in another (a secret's token on a notice's page).
 */
export function createReveal<T = Record<string, string>>(deps: { store: EphemeralStore; encryptionKey: Buffer | string; purpose: string }): Reveal<T> {
  const key = deriveKey(deps.encryptionKey, deps.purpose);
  const storeKey = (token: string) => `${deps.purpose}:${sha256Base64url(token)}`;
  const unseal = (ownerId: string, parked: string | null): T | null => {
    if (!parked) return null;
    const opened = open(key, Buffer.from(parked, 'base64'), Buffer.from(ownerId));
    return opened ? JSON.parse(opened.toString('utf8')) as T : null;
  };
  const valid = (token: string | undefined): token is string => typeof token === 'string' && token.length > 0 && token.length <= 100;
  return {
    async park(ownerId, value) {
      const token = randomToken(24);
      const sealed = seal(key, Buffer.from(JSON.stringify(value)), Buffer.from(ownerId));
      await deps.store.put(storeKey(token), sealed.toString('base64'), TTL_SECONDS);
      return token;
    },
    async take(ownerId, token) {
      if (!valid(token)) return null;
      // Its owner is checked before anything is removed: someone else opening the URL (another
      // admin given the address) must not use up the one showing its owner has not had yet.
      if (!unseal(ownerId, await deps.store.get(storeKey(token)))) return null;
      return unseal(ownerId, await deps.store.take(storeKey(token)));
    },
    read: async (ownerId, token) => (valid(token) ? unseal(ownerId, await deps.store.get(storeKey(token))) : null),
  };
}
