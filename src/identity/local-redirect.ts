// Where to send a browser after sign-in, from a `next` parameter we did not write ourselves.
// Only a path on this origin is accepted: one leading '/', no '//' or '/\' (which browsers read
// as another host), no control characters or backslashes anywhere. Anything else becomes '/account'.
export function safeLocalPath(next: unknown, fallback = '/account'): string {
  if (typeof next !== 'string' || next.length > 2000) return fallback;
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  if (/[\u0000-\u001f\u007f\\\s]/.test(next)) return fallback;
  try {
    const resolved = new URL(next, 'https://origin.invalid');
    if (resolved.origin !== 'https://origin.invalid') return fallback;
  } catch {
    return fallback;
  }
  return next;
}
