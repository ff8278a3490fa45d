import { statSync } from 'node:fs';

/**
 * A file's identity, size and times as one string, to tell whether it changed since it was last
 * read: a renewal or an edit changes one of them (an editor or certbot that writes a new file and
 * renames or links it over the old one changes its identity). A file that cannot be looked at
 * gets a version of its own, the error's code.
 */
export function fileVersion(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (error) {
    return `missing:${(error as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}
