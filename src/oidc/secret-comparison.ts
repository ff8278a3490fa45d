import type Provider from 'oidc-provider';
import { sha256Base64url, timingSafeEqualStrings } from '../core/crypto.ts';

/**
 * oidc-provider v9 authenticates client_secret_basic/post by calling
 * `client.compareClientSecret(presented)` (lib/shared/client_auth.js); the default compares the
 * presented value with the stored `client_secret`. We store only SHA-256(secret), so compare the
 * hash of what was presented with it, in constant time.
 */
export function compareHashedClientSecrets(provider: Provider): void {
  const prototype = provider.Client.prototype as unknown as { compareClientSecret(this: { clientSecret?: string }, actual: string): Promise<boolean> };
  prototype.compareClientSecret = async function compareHashed(actual: string) {
    if (typeof this.clientSecret !== 'string' || !this.clientSecret || typeof actual !== 'string') return false;
    return timingSafeEqualStrings(sha256Base64url(actual), this.clientSecret);
  };
}
