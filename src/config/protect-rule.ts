import type { ProtectedPrefix } from '../edge/protection.ts';

// `--protect PREFIX[=group1,group2]`: a path prefix that needs a signed-in user, optionally one in
// any of the listed groups. The same spelling as `latchkey generate --protect`.

const PREFIX = /^\/(?:[A-Za-z0-9._~@+-]+\/)+$/;
// Group names travel in the `groups` claim and in `allowed_groups=` queries (comma-separated).
const GROUP = /^[A-Za-z0-9._@-]+$/;

export function parseProtectRule(text: string, label: string, problems: string[]): ProtectedPrefix | null {
  const eq = text.indexOf('=');
  const rawPrefix = (eq < 0 ? text : text.slice(0, eq)).trim();
  const groupText = eq < 0 ? null : text.slice(eq + 1);
  // "/private" protects the folder, not "/privateer"
  const prefix = rawPrefix.endsWith('/') ? rawPrefix : `${rawPrefix}/`;
  const before = problems.length;
  if (!PREFIX.test(prefix) || /\/\.{1,2}\//.test(prefix))
    problems.push(`${label}: "${rawPrefix}" must be a plain path such as /private/ (letters, digits, . _ ~ @ + -)`);
  const allowedGroups = groupText === null ? [] : groupText.split(',').map((g) => g.trim()).filter(Boolean);
  if (groupText !== null && allowedGroups.length === 0) problems.push(`${label}: "${text}" names no group after "="; drop the "=" to allow every signed-in user`);
  for (const group of allowedGroups) if (!GROUP.test(group)) problems.push(`${label}: group "${group}" may only contain letters, digits and . _ @ -`);
  return problems.length === before ? { prefix, allowedGroups } : null;
}

/** Parses every rule; the same prefix twice (ignoring case, as matching does) is a mistake worth naming. */
export function parseProtectRules(texts: readonly string[], label: string, problems: string[]): ProtectedPrefix[] {
  const rules: ProtectedPrefix[] = [];
  for (const text of texts) {
    const rule = parseProtectRule(text, label, problems);
    if (!rule) continue;
    if (rules.some((r) => r.prefix.toLowerCase() === rule.prefix.toLowerCase())) problems.push(`${label}: ${rule.prefix} is given twice; keep one`);
    else rules.push(rule);
  }
  return rules;
}
