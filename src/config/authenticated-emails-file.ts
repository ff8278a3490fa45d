import { readFileSync } from 'node:fs';

/**
 * Reads --authenticated-emails-file once at start-up: one email per line, compared
 * case-insensitively (so stored lower-cased); blank lines and lines starting with # are skipped.
 * Returns null (and a problem) when the file cannot be read: an allow-list that silently failed to
 * load would lock everyone out, or worse, be mistaken for "no list".
 */
export function readAuthenticatedEmails(path: string, label: string, problems: string[]): ReadonlySet<string> | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`${label}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return null;
  }
  const emails = new Set<string>();
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) return;
    if (!/^[^\s@]+@[^\s@]+$/.test(line)) {
      problems.push(`${label}: ${path} line ${index + 1} is not an email address: "${line}"`);
      return;
    }
    emails.add(line.toLowerCase());
  });
  return emails;
}
