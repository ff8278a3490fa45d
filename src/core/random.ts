import { randomBytes } from 'node:crypto';

/** An unguessable token from the CSPRNG, base64url without padding (`bytes` of entropy). */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** A short random identifier for rows and flows (128 bits). */
export const randomId = (): string => randomBytes(16).toString('base64url');
