// Time comes from a Clock so tests can move it; production reads the system clock.
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

export const nowSeconds = (clock: Clock): number => Math.floor(clock.nowMs() / 1000);

/** A clock for tests: starts at `startMs` and moves only when told. */
export function manualClock(startMs = Date.UTC(2026, 0, 1)): Clock & { advanceMs(ms: number): void } {
  let now = startMs;
  return { nowMs: () => now, advanceMs: (ms) => { now += ms; } };
}
