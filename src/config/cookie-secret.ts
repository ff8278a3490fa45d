// The cookie secret, read the way oauth2-proxy reads it (pkg/encryption SecretBytes) plus one
// kindness: AES needs 16, 24 or 32 bytes, so a value that base64url-decodes (padded or not) to one
// of those lengths is used decoded; failing that, a value that is 16, 24 or 32 bytes as written is
// used as is. oauth2-proxy refuses standard base64 with '+' or '/' (it falls back to the raw
// 44 characters, which is no AES length), yet that is exactly what `openssl rand -base64 32`
// prints, so latchkey also accepts it.

const AES_KEY_BYTES = [16, 24, 32];
const HOW_TO_GENERATE = 'generate one with: openssl rand -base64 32';

export function decodeCookieSecret(text: string): { bytes: Buffer } | { problem: string } {
  // 16 spaces are 16 bytes, and a key anyone could guess (a line of a file gone wrong, say)
  if (/^\s*$/.test(text)) return { problem: `is only whitespace; ${HOW_TO_GENERATE}` };
  const unpadded = text.replace(/=+$/, '');
  const base64Length = unpadded.length % 4 === 1 ? null : unpadded.length; // 1 leftover char is never valid base64
  let decodedLength: number | null = null;
  if (base64Length !== null && /^[A-Za-z0-9_-]*$/.test(unpadded)) {
    const bytes = Buffer.from(unpadded, 'base64url');
    if (AES_KEY_BYTES.includes(bytes.length)) return { bytes };
    decodedLength = bytes.length;
  } else if (base64Length !== null && /^[A-Za-z0-9+/]*$/.test(unpadded)) {
    const bytes = Buffer.from(unpadded, 'base64');
    if (AES_KEY_BYTES.includes(bytes.length)) return { bytes };
    decodedLength = bytes.length;
  }
  const raw = Buffer.from(text, 'utf8');
  if (AES_KEY_BYTES.includes(raw.length)) return { bytes: raw };
  const got = decodedLength !== null && unpadded.length > 0
    ? `it decodes from base64 to ${decodedLength} bytes and is ${raw.length} bytes as written`
    : `it is ${raw.length} bytes`;
  return { problem: `must be 16, 24 or 32 bytes, base64-encoded or as is, but ${got}; ${HOW_TO_GENERATE}` };
}
