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

export type ReloadOutcome = 'unchanged' | 'reloaded' | 'refused';

export interface FileWatch {
  /** Looks at the files now. */
  check(): ReloadOutcome;
  stop(): void;
}

/**
 * Looks at `paths` every `intervalMs` (a stat call each) and calls `reload` when any of them
 * changed: once per version of the files, so a change that reload refuses (and logs) is not read
 * and logged again until the files change once more (a half-written renewal is taken at the next
 * look, once both of its files are there). A reload that throws is a refusal told to `failed`:
 * it runs from a timer, where an exception would end the process.
 *
 * `untilSettled`: a new version is read only once two looks in a row find it, for a file that is
 * rewritten in place (an editor that truncates it first, `cat > file`), where one look could find
 * it empty or half-written and take that for its content.
 */
export function watchFiles(paths: readonly string[], intervalMs: number, reload: () => 'reloaded' | 'refused', failed: (error: unknown) => void,
  options: { untilSettled?: boolean } = {}): FileWatch {
  const versionNow = () => paths.map(fileVersion).join('|');
  let seen = versionNow();
  let changing: string | null = null;
  const check = (): ReloadOutcome => {
    const version = versionNow();
    if (version === seen) return 'unchanged';
    if (options.untilSettled && version !== changing) {
      changing = version;
      return 'unchanged';
    }
    seen = version;
    changing = null;
    try {
      return reload();
    } catch (error) {
      failed(error);
      return 'refused';
    }
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
