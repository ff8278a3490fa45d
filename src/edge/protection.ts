// Which protected prefix, if any, covers a normalised path. Longest prefix wins, so a
// `/private/family/` rule with its own groups overrides `/private/`.
//
// Matching is deliberately generous, because a false "protected" only costs a sign-in while a
// false "public" leaks a page:
// - `/private` (no trailing slash) is covered by `/private/`: after sign-in it is redirected to
//   `/private/`, so an anonymous visitor cannot even learn whether the section exists.
// - Comparison ignores case, so `/PRIVATE/x` is protected too: on a case-insensitive file system
//   (macOS, Windows shares, ext4 casefold) it would name the same file. Such file systems fold
//   Unicode too: `/ſecret/` (long s) opens `/secret/` on ext4 casefold, `/ﬆaff/` `/staff/`, and
//   macOS takes a decomposed é for a composed one. So both sides are compared in compatibility
//   form (NFKC), upper- then lower-cased, which takes ſ, ß, ﬆ, ﬁ, fullwidth letters and the Kelvin
//   sign to their ASCII spelling. A path in plain ASCII, nearly every request, needs only ASCII
//   lower case, which gives the same answer.

export interface ProtectedPrefix {
  /** Path prefix with leading and trailing slash, e.g. `/private/`. */
  prefix: string;
  /** Groups allowed in; an empty list means every signed-in user. */
  allowedGroups: string[];
}

export type ProtectionMatcher = (normalisedPathname: string) => ProtectedPrefix | null;

const ASCII = /^[\x00-\x7f]*$/;

/** The spelling a case-insensitive file system would look a name up by, or a more generous one. */
const foldCase = (text: string): string =>
  ASCII.test(text) ? text.toLowerCase() : text.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase();

interface CompiledPrefix {
  rule: ProtectedPrefix;
  lowerPrefix: string; // "/private/"
  lowerBare: string; // "/private"
}

/** Checks and freezes the rules; throws on a prefix that could never match what it seems to. */
export function createProtectionMatcher(rules: readonly ProtectedPrefix[]): ProtectionMatcher {
  const compiled: CompiledPrefix[] = rules.map((input) => {
    let prefix = input.prefix;
    if (!prefix.startsWith('/')) throw new Error(`protected prefix "${prefix}" must start with "/"`);
    if (!prefix.endsWith('/')) prefix += '/'; // "/private" protects the folder, not "/privateer"
    if (/\/\.{1,2}\/|\/\/|[%\\?#]/.test(prefix)) throw new Error(`protected prefix "${input.prefix}" must be a plain path`);
    const rule: ProtectedPrefix = Object.freeze({ prefix, allowedGroups: Object.freeze([...input.allowedGroups]) as string[] });
    const lowerPrefix = foldCase(prefix);
    return { rule, lowerPrefix, lowerBare: lowerPrefix.slice(0, -1) };
  });
  compiled.sort((a, b) => b.lowerPrefix.length - a.lowerPrefix.length);
  if (compiled.length === 0) return () => null;

  return (pathname) => {
    const lower = foldCase(pathname);
    for (const c of compiled) {
      if (lower.startsWith(c.lowerPrefix) || lower === c.lowerBare) return c.rule;
    }
    return null;
  };
}
