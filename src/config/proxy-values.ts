import { parseGoDurationMs } from '../core/duration.ts';
import { labelOf, requireOption, type ProxyOption } from './proxy-options.ts';
import type { RawValues } from './proxy-raw-value.ts';

/**
 * Typed reads of the merged raw values (flag > env > file already applied), falling back to each
 * option's default. Problems name the flag and variable, and the file when the value came from one.
 */
export class ProxyValues {
  readonly problems: string[];
  private readonly raw: RawValues;

  constructor(raw: RawValues, problems: string[]) {
    this.raw = raw;
    this.problems = problems;
  }

  isSet(flag: string): boolean {
    return this.raw.has(requireOption(flag).flag);
  }

  label(flag: string): string {
    const option = requireOption(flag);
    const origin = this.raw.get(flag)?.origin;
    return origin?.startsWith('config file') ? `${labelOf(option)} (${origin})` : labelOf(option);
  }

  problem(flag: string, message: string): void {
    this.problems.push(`${this.label(flag)}: ${message}`);
  }

  /** The value, trimmed; undefined when unset or empty. */
  string(flag: string): string | undefined {
    const option = requireOption(flag);
    const value = this.raw.get(flag)?.value;
    const text = typeof value === 'string' ? value : option.defaultText;
    const trimmed = option.kind === 'secret' ? text : text.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  bool(flag: string): boolean {
    const value = this.raw.get(flag)?.value;
    return typeof value === 'boolean' ? value : requireOption(flag).defaultText === 'true';
  }

  list(flag: string): string[] {
    const value = this.raw.get(flag)?.value;
    return Array.isArray(value) ? [...value] : [];
  }

  /** Whole seconds; `allowZero` for options where 0 has a meaning (never refresh, session cookie). */
  durationSeconds(flag: string, allowZero: boolean): number {
    const option: ProxyOption = requireOption(flag);
    const text = this.string(flag) ?? option.defaultText;
    const ms = parseGoDurationMs(text);
    const fallback = Math.round((parseGoDurationMs(option.defaultText) ?? 0) / 1000);
    if (ms === null) {
      this.problem(flag, `expected a duration such as 168h, 1h30m or 15m, got "${text}"`);
      return fallback;
    }
    if (ms < 0 || (ms === 0 && !allowZero)) {
      this.problem(flag, `must be ${allowZero ? 'zero or more' : 'more than zero'}, got "${text}"`);
      return fallback;
    }
    // the runtime counts whole seconds; "300ms" must not round down to 0, which means "never"
    if (ms > 0 && ms < 1000) {
      this.problem(flag, `must be at least 1s, got "${text}"`);
      return fallback;
    }
    return Math.round(ms / 1000);
  }
}
