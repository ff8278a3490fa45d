// Chooses a precompressed representation from Accept-Encoding (RFC 9110 §12.5.3).
// A coding is acceptable when it is listed (or covered by `*`) with a q-value above 0; `q=0`
// forbids it even when `*` would allow it. Among acceptable codings the highest q wins, and on
// a tie brotli beats gzip (smaller files). `x-gzip` is gzip (RFC 9110 §8.4.1.3).

export type PrecompressedEncoding = 'br' | 'gzip';

/** q-values keyed by coding name (lower-case); `*` included when present. */
export function parseAcceptEncoding(header: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const item of header.split(',')) {
    const [nameText, ...params] = item.split(';');
    let name = nameText.trim().toLowerCase();
    if (!name) continue;
    if (name === 'x-gzip') name = 'gzip';
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=');
      if (key.trim().toLowerCase() === 'q') {
        q = Number(value?.trim());
        if (!Number.isFinite(q) || q < 0 || q > 1) q = 0; // a malformed weight must not enable a coding
      }
    }
    weights.set(name, Math.max(q, weights.get(name) === undefined ? 0 : weights.get(name)!));
  }
  return weights;
}

// Browsers send the same Accept-Encoding on every request ("gzip, deflate, br, zstd"), so what a
// header value allows is worked out once and remembered; bounded, so odd values cannot grow it.
interface Allowed {
  br: number;
  gzip: number;
}
const ALLOWED_LIMIT = 64;
const allowedByHeader = new Map<string, Allowed>();

function allowedBy(header: string): Allowed {
  let allowed = allowedByHeader.get(header);
  if (allowed === undefined) {
    const weights = parseAcceptEncoding(header);
    const star = weights.get('*');
    allowed = { br: weights.get('br') ?? star ?? 0, gzip: weights.get('gzip') ?? star ?? 0 };
    if (allowedByHeader.size >= ALLOWED_LIMIT) allowedByHeader.clear();
    allowedByHeader.set(header, allowed);
  }
  return allowed;
}

/** The best available precompressed encoding the client accepts, or null for the file itself. */
export function chooseEncoding(header: string | undefined, available: { br: boolean; gzip: boolean }): PrecompressedEncoding | null {
  if (!header || (!available.br && !available.gzip)) return null;
  const allowed = allowedBy(header);
  const brQ = available.br ? allowed.br : 0;
  const gzipQ = available.gzip ? allowed.gzip : 0;
  if (brQ <= 0 && gzipQ <= 0) return null;
  return brQ >= gzipQ ? 'br' : 'gzip';
}
