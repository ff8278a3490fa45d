// A backend that goes away (Redis behind `latchkey proxy`'s sessions) fails every request that
// needs it: under load, thousands a second. A log line for each buries everything else and fills
// the disk, so an outage is told in a few lines instead:
// - its first failure at once, with the cause;
// - then at most one line per interval, with how many requests failed since the last line;
// - and one line when the backend answers again, with how long it was away and how many failed.
// Requests that failed while it was away carry a BackendUnavailableError, which the handlers that
// would log each failure recognise (isCountedOutage) and answer without logging it again.
// While the backend answers, answered() is one comparison: nothing is allocated or logged.
import type { Clock } from './clock.ts';

/** The few logger methods this needs (pino and fastify's logger fit). */
export interface OutageLogger {
  error(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  info(object: object, message?: string): void;
}

export interface OutageLogDeps {
  /** The backend's name in the log lines: "Redis". */
  backend: string;
  logger: OutageLogger;
  clock: Clock;
  /** At most one line per this many ms while the outage lasts (default OUTAGE_SUMMARY_MS). */
  summaryEveryMs?: number;
  /** What happens meanwhile, for the first line (default: requests that need it fail). */
  meanwhile?: string;
  /** What is counted, one and many (default: request, requests). */
  counted?: readonly [one: string, many: string];
}

export interface OutageLog {
  /**
   * A request failed because the backend did not answer: counted, and logged only when it starts
   * an outage or an interval has passed since the last line. Returns the error to throw.
   */
  requestFailed(cause: unknown): BackendUnavailableError;
  /** The connection failed outside any request (a reconnection attempt): starts an outage, counts no request. */
  connectionFailed(cause: unknown): void;
  /** The backend answered: ends the outage, if one is under way. */
  answered(): void;
  readonly down: boolean;
}

/** How often an outage that goes on is told again (with the count of requests that failed meanwhile). */
export const OUTAGE_SUMMARY_MS = 15_000;

/** A request failed because a backend is away; that outage's log has counted it (outage-log.ts). */
export class BackendUnavailableError extends Error {
  readonly backend: string;
  constructor(backend: string, options: { cause: unknown }) {
    super(`${backend} cannot be reached`, options);
    this.name = 'BackendUnavailableError';
    this.backend = backend;
  }
}

/** The error (or the error it wraps, as AppError and toAppError do) was counted by an outage log: do not log it again. */
export const isCountedOutage = (error: unknown): boolean =>
  error instanceof BackendUnavailableError || (error instanceof Error && error.cause instanceof BackendUnavailableError);

const seconds = (ms: number) => Math.round(ms / 1000);

export function createOutageLog(deps: OutageLogDeps): OutageLog {
  const { backend, logger, clock } = deps;
  const summaryEveryMs = deps.summaryEveryMs ?? OUTAGE_SUMMARY_MS;
  const meanwhile = deps.meanwhile ?? 'requests that need it fail until it is back';
  const [one, many] = deps.counted ?? ['request', 'requests'];
  const requests = (count: number) => `${count} ${count === 1 ? one : many}`;
  let down = false;
  let downSinceMs = 0;
  let lastLineMs = 0;
  /** Requests failed since the outage began, and since the last line. */
  let failed = 0;
  let failedSinceLine = 0;

  const begin = (cause: unknown, failedNow: number) => {
    down = true;
    downSinceMs = lastLineMs = clock.nowMs();
    failed = failedNow;
    failedSinceLine = 0;
    logger.error({ err: cause },
      `${backend} is unreachable; ${meanwhile} (further failures are counted, one line every ${seconds(summaryEveryMs)} s)`);
  };

  return {
    requestFailed(cause) {
      if (!down) begin(cause, 1);
      else {
        failed++;
        failedSinceLine++;
        const now = clock.nowMs();
        if (now - lastLineMs >= summaryEveryMs) {
          logger.warn({ failed: failedSinceLine, downSeconds: seconds(now - downSinceMs), err: cause },
            `${backend} still unreachable after ${seconds(now - downSinceMs)} s; ${requests(failedSinceLine)} failed in the last ${seconds(now - lastLineMs)} s`);
          lastLineMs = now;
          failedSinceLine = 0;
        }
      }
      return new BackendUnavailableError(backend, { cause });
    },
    connectionFailed(cause) {
      if (!down) begin(cause, 0);
    },
    answered() {
      if (!down) return;
      down = false;
      const downSeconds = seconds(clock.nowMs() - downSinceMs);
      logger.info({ failed, downSeconds }, `${backend} reachable again after ${downSeconds} s; ${requests(failed)} failed`);
    },
    get down() {
      return down;
    },
  };
}
