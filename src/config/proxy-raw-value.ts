import { parseBool } from './env.ts';
import type { ProxyOption } from './proxy-options.ts';

// What each source (flags, environment, config file, the programmatic builder) hands over before
// validation: booleans already parsed, lists already split, everything else as written.
export type RawValue = string | boolean | string[];
export interface RawEntry {
  value: RawValue;
  /** Where the value came from, for problem messages: "flag", "environment", "config file x.cfg". */
  origin: string;
}
export type RawValues = Map<string, RawEntry>;

/**
 * oauth2-proxy splits list values on commas on the command line (pflag StringSlice) and in
 * environment variables (viper's string-to-slice hook), so `--email-domain=a.com,b.com` and
 * OAUTH2_PROXY_EMAIL_DOMAINS="a.com,b.com" both mean two domains.
 */
export const splitList = (text: string): string[] => text.split(',').map((item) => item.trim()).filter(Boolean);

/** Turns a typed value (TOML, or the programmatic builder) into a raw value, or returns a problem. */
export function coerceRaw(option: ProxyOption, value: unknown): { value: RawValue } | { problem: string } {
  switch (option.kind) {
    case 'bool':
      if (typeof value === 'boolean') return { value };
      if (typeof value === 'string' && parseBool(value) !== null) return { value: parseBool(value) as boolean };
      return { problem: `expected true or false, got ${describe(value)}` };
    case 'list':
      if (typeof value === 'string') return { value: splitList(value) };
      if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return { value: value.map((item) => item.trim()).filter(Boolean) };
      return { problem: `expected a list of strings, got ${describe(value)}` };
    case 'duration':
      // Go would read a bare number as nanoseconds, which nobody means; only 0 is unambiguous
      if (value === 0) return { value: '0' };
      if (typeof value === 'string') return { value };
      return { problem: `expected a duration string such as "168h" or "15m", got ${describe(value)}` };
    default:
      if (typeof value === 'string') return { value };
      if (typeof value === 'number' && option.kind === 'string') return { value: String(value) };
      return { problem: `expected a string, got ${describe(value)}` };
  }
}

/** Text form of a raw boolean/string given on the command line or in the environment. */
export function rawFromText(option: ProxyOption, text: string): { value: RawValue } | { problem: string } {
  if (option.kind === 'bool') {
    const parsed = parseBool(text);
    return parsed === null ? { problem: `expected true or false, got "${text}"` } : { value: parsed };
  }
  if (option.kind === 'list') return { value: splitList(text) };
  return { value: text };
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a table';
  return typeof value === 'string' ? `"${value}"` : String(value);
}
