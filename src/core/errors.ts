// One error type for every expected failure. `message` is safe to show to a user or a program;
// the library error that caused it (if any) travels in `cause` and is only ever logged.
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(code: string, status: number, safeMessage: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(safeMessage, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    if (options?.details) this.details = Object.freeze({ ...options.details });
  }
}

export const isAppError = (value: unknown): value is AppError => value instanceof AppError;

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(code, 400, message, { details });
export const notFound = (what: string) => new AppError('not_found', 404, `${what} was not found.`);
export const forbidden = (message = 'You are not allowed to do this.') => new AppError('forbidden', 403, message);
export const unauthorized = (message = 'Please sign in first.') => new AppError('unauthorized', 401, message);
export const conflict = (code: string, message: string) => new AppError(code, 409, message);

/**
 * For logs and operator output only: the messages of an error and of each `cause` below it,
 * joined with ": ", so "fetch failed" says why ("fetch failed: getaddrinfo ENOTFOUND id.example",
 * "…: self-signed certificate in certificate chain"). An AppError's message, written for users,
 * is left out when something below it says more.
 */
export function causeChain(error: unknown): string {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 6; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    if (message && message !== messages.at(-1) && !(isAppError(current) && current.cause !== undefined)) messages.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return messages.join(': ') || String(error);
}
