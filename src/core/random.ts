import { randomBytes } from 'node:crypto';

/** An unguessable token from the CSPRNG, base64url without padding (`bytes` of entropy). */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/**
 * A short random identifier for rows and flows (128 bits, base64url). Never one that starts with
 * '-' (1 in 64 would): the CLI takes client and API key IDs as arguments, where such an ID reads
 * as an option. Drawing again keeps the rest uniform.
 */
export function randomId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (id[0] !== '-') return id;
  }
}
