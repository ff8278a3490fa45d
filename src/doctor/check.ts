// The shape every doctor check shares: an id, a one-line title, and run(ctx) returning data.
// Printing (text or --json) and the exit status are decided by the caller, never by a check.
import type { DoctorContext } from './context.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  status: CheckStatus;
  /** What the check saw, in words an operator can compare with their own setup. */
  detail: string;
  /** The exact change that fixes a warning or failure; absent for ok and skip. */
  fix?: string;
}

export interface Check {
  id: string;
  title: string;
  run(ctx: DoctorContext): Promise<CheckResult> | CheckResult;
}

export const ok = (detail: string): CheckResult => ({ status: 'ok', detail });
export const warn = (detail: string, fix: string): CheckResult => ({ status: 'warn', detail, fix });
export const fail = (detail: string, fix: string): CheckResult => ({ status: 'fail', detail, fix });
/** Only when the check does not apply to the inputs given; the reason says which input is missing. */
export const skip = (reason: string): CheckResult => ({ status: 'skip', detail: reason });

/** Several findings of one check folded into one result: the worst status wins, all details kept. */
export function combine(results: CheckResult[], okDetail: string): CheckResult {
  const bad = results.filter((r) => r.status === 'fail' || r.status === 'warn');
  if (!bad.length) return ok(okDetail);
  const status = bad.some((r) => r.status === 'fail') ? 'fail' : 'warn';
  return { status, detail: bad.map((r) => r.detail).join('; '), fix: bad.map((r) => r.fix).filter(Boolean).join('\n') };
}

/** The skip reason of every check that needs a request when doctor runs with --offline. */
export const OFFLINE = 'not run with --offline (no request is made)';
