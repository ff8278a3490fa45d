// Go's time.ParseDuration syntax ("720h", "1h30m", "5m", "300ms"), which Pocket ID and
// oauth2-proxy both use, so configuration copied from either works unchanged.
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** Returns milliseconds, or null when `text` is not a Go duration. A bare "0" is zero. */
export function parseGoDurationMs(text: string): number | null {
  const input = text.trim();
  if (input === '0') return 0;
  let sign = 1;
  let rest = input;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (!rest) return null;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < rest.length) {
    const match = PART.exec(rest);
    if (!match) return null;
    total += Number(match[1]) * UNIT_MS[match[2]];
  }
  return sign * total;
}

/**
 * How long a sign-in may last: SESSION_DURATION and the admin console's setting share it. Under 5
 * minutes nobody gets through a sign-in; over a year a stolen cookie lives on for too long.
 */
export const SESSION_DURATION_RANGE_SECONDS = { min: 5 * 60, max: 365 * 86_400 } as const;

export function formatDurationSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
