import { createCipheriv, createDecipheriv, createHash, createSecretKey, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';

export const sha256Base64url = (value: string | Buffer): string => createHash('sha256').update(value).digest('base64url');

/** Compares two secrets in time that does not depend on where they differ. */
export function timingSafeEqualStrings(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM: iv ‖ ciphertext ‖ tag. `associatedData` binds the sealed value to its purpose
 * (e.g. a cookie name), so a value sealed for one purpose does not open for another.
 */
export function seal(key: Buffer | KeyObject, plaintext: Buffer, associatedData?: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (associatedData) cipher.setAAD(associatedData);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Opens what `seal` made; returns null when the value was tampered with or sealed with another key. */
export function open(key: Buffer | KeyObject, sealed: Buffer, associatedData?: Buffer): Buffer | null {
  if (sealed.length < IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    if (associatedData) decipher.setAAD(associatedData);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return null;
  }
}

/**
 * A key used on every request (the session cookie) as a KeyObject: createDecipheriv with a raw
 * Buffer re-validates and wraps it each call, which cost ~3× the decryption itself (bench/profile-proxy.ts).
 */
export const sealingKey = (secret: Buffer | string, purpose: string): KeyObject => createSecretKey(deriveKey(secret, purpose));

/** Derives a 32-byte key for one purpose from a secret of any length (HKDF-like, one block). */
export function deriveKey(secret: Buffer | string, purpose: string): Buffer {
  return createHash('sha256').update(`latchkey:${purpose}:`).update(secret).digest();
}
