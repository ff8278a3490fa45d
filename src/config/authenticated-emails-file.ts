import { readFileSync } from 'node:fs';
import { type FileWatch, watchFiles } from '../core/file-version.ts';

/**
 * Reads --authenticated-emails-file as oauth2-proxy does: CSV whose first column is an email
 * (further columns, such as a name, are ignored), compared case-insensitively (so stored
 * lower-cased); blank lines and lines starting with # are skipped. Unlike oauth2-proxy, a line
 * whose first column is not one email address is a problem ("alice@example.com bob@example.com"
 * would otherwise be one address nobody has). At start, returns null (and the problems) when the
 * file cannot be read or has such a line: an allow-list that silently failed to load would lock
 * everyone out, or worse, be mistaken for "no list".
 */
export function readAuthenticatedEmails(path: string, label: string, problems: string[]): ReadonlySet<string> | null {
  const read = readEmailsFile(path, label);
  problems.push(...read.problems);
  return read.problems.length ? null : read.emails;
}

/** The file's addresses, and its problems: the file unreadable (emails null) or lines that are not an address (left out). */
function readEmailsFile(path: string, label: string): { emails: Set<string> | null; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { emails: null, problems: [`${label}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`] };
  }
  const emails = new Set<string>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) return;
    const address = firstCsvField(line).trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(address)) {
      problems.push(`${label}: ${path} line ${index + 1} is not an email address: "${line}"`);
      return;
    }
    emails.add(address.toLowerCase());
  });
  return { emails, problems };
}

/** A CSV line's first field: up to the first comma, or a "quoted" field with "" for a quote. */
function firstCsvField(line: string): string {
  if (!line.startsWith('"')) return line.split(',', 1)[0];
  let field = '';
  for (let i = 1; i < line.length; i++) {
    if (line[i] !== '"') field += line[i];
    else if (line[i + 1] === '"') field += line[++i];
    else return field;
  }
  return `"${field}`; // never closed: not an address
}

/** The allow-list the proxy consults: the addresses of the file as last read. */
export interface EmailAllowList {
  has(email: string): boolean;
}

/** How often the file is looked at (one stat call); oauth2-proxy watches it too and reloads it on change. */
export const EMAILS_FILE_CHECK_MS = 2_000;

export interface EmailsFileWatch extends FileWatch {
  /** The live list: the addresses of the file as last read (without the lines that are not one). */
  list: EmailAllowList;
}

/**
 * Reads the file again whenever it changes (an editor that writes a new file and renames it over
 * the old one counts), once two looks in a row find the same version: a file saved in place is
 * empty or half-written for a moment, and taken then it would end the session of everyone it
 * leaves out (a session the list refuses is ended, as oauth2-proxy ends it). A line that is not an address is left out and logged, and the rest of the
 * file applies: nobody on such a line gets in, and an address taken out in the same edit is out
 * at once (keeping the whole old list would keep a removed friend in until the typo is fixed).
 * A file that cannot be read (gone, or mid-rename) keeps the list in use. Either is logged once
 * per version of the file.
 */
export function watchAuthenticatedEmails(deps: {
  path: string;
  label: string;
  initial: ReadonlySet<string>;
  log: { info(details: object, message: string): void; warn(details: object, message: string): void; error(details: object, message: string): void };
  intervalMs?: number;
}): EmailsFileWatch {
  let emails = deps.initial;
  const watch = watchFiles([deps.path], deps.intervalMs ?? EMAILS_FILE_CHECK_MS, () => {
    const read = readEmailsFile(deps.path, deps.label);
    if (!read.emails) {
      deps.log.warn({ event: 'emails_file_refused', problems: read.problems },
        `${deps.path} changed but was not taken: ${read.problems.join('; ')}; the ${emails.size} address(es) read before still apply`);
      return 'refused';
    }
    emails = read.emails;
    if (read.problems.length) {
      deps.log.warn({ event: 'emails_file_lines_refused', count: emails.size, problems: read.problems },
        `${deps.path} reloaded without the lines that are not an address (nobody on them can sign in until they are fixed): ${read.problems.join('; ')}; ${emails.size} address(es) may sign in`);
    } else {
      deps.log.info({ event: 'emails_file_reloaded', count: emails.size }, `${deps.path} reloaded: ${emails.size} address(es) may sign in`);
    }
    return 'reloaded';
  }, (error) => deps.log.error({ err: error, event: 'emails_file_failed' }, `${deps.path} changed but could not be read; the ${emails.size} address(es) read before still apply`),
  { untilSettled: true });
  return { ...watch, list: { has: (email) => emails.has(email) } };
}
