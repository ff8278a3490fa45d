import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../core/errors.ts';
import { isCountedOutage } from '../core/outage-log.ts';
import type { Html } from './html.ts';

/** `back`: a same-site path that leads back to where the person can try again (an expired form's page). */
export type ErrorPageRenderer = (view: { status: number; title: string; message: string; requestId: string; back?: string }) => Html;

/** Browsers get a page; programs (Accept: application/json, /api/ routes, non-GET fetches) get JSON. */
export function wantsHtml(request: FastifyRequest): boolean {
  if (request.url.startsWith('/api/')) return false;
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html');
}

const TITLES: Record<number, string> = { 400: 'Bad request', 401: 'Sign-in required', 403: 'Not allowed', 404: 'Not found', 405: 'Method not allowed', 409: 'Conflict', 410: 'This link can no longer be used', 413: 'Too large', 415: 'Unsupported content', 429: 'Too many requests' };

/** Turns anything thrown into a safe AppError; fastify's own client errors keep their status. */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const fastifyError = error as FastifyError;
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'body_too_large'
      : fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported_media_type'
      : fastifyError.validation ? 'invalid_request'
      : fastifyError.code?.startsWith('FST_ERR_CTP') || error instanceof SyntaxError ? 'malformed_body' : 'bad_request';
    const message = code === 'body_too_large' ? 'The request body is too large.'
      : code === 'unsupported_media_type' ? 'This content type is not accepted here.'
      : code === 'invalid_request' ? `The request is invalid: ${validationText(fastifyError)}.`
      : code === 'malformed_body' ? 'The request body could not be read: it is not well-formed.'
      : 'The request could not be understood.';
    return new AppError(code, status, message, { cause: error });
  }
  return new AppError('internal_error', 500, 'Something went wrong on our side. Please try again.', { cause: error });
}

/**
 * Fastify's own summary, except that an unknown field is named: "body must NOT have additional
 * properties" alone leaves the caller guessing which of their fields was refused.
 */
function validationText(error: FastifyError): string {
  const problems = error.validation ?? [];
  const unknown = problems.filter((p) => p.keyword === 'additionalProperties').map((p) => String((p.params as { additionalProperty?: unknown }).additionalProperty).slice(0, 60));
  return unknown.length ? `${error.message} (${unknown.map((name) => `"${name}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not accepted here)` : error.message;
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: AppError, renderPage?: ErrorPageRenderer) {
  // A backend outage's failures are counted and logged by its outage log (core/outage-log.ts), not one by one.
  if (error.status >= 500 && !isCountedOutage(error)) request.log.error({ err: error.cause ?? error, code: error.code }, 'request failed');
  // The route's pattern (/lc/:token), never the path, which can hold a link's token; a request for
  // no route at all (a browser's /favicon.ico) is routine and logged at debug only.
  else if (request.routeOptions.url) request.log.info({ code: error.code, status: error.status, method: request.method, route: request.routeOptions.url }, 'request refused');
  else request.log.debug({ code: error.code, status: error.status, method: request.method }, 'request for no route refused');
  reply.code(error.status).header('cache-control', 'no-store');
  if (renderPage && wantsHtml(request)) {
    const back = typeof error.details?.back === 'string' ? error.details.back : undefined;
    const title = error.code === 'cross_site_request' ? 'This form expired' : TITLES[error.status] ?? 'Error';
    const page = renderPage({ status: error.status, title, message: error.message, requestId: request.id, back });
    return reply.type('text/html; charset=utf-8').send(page.value);
  }
  return reply.send({ error: error.code, message: error.message, requestId: request.id, ...(error.details ?? {}) });
}

/** Installs the one error handler and a not-found handler that speak the same language. */
export function installErrorHandling(app: FastifyInstance, renderPage?: ErrorPageRenderer): void {
  app.setErrorHandler((error, request, reply) => sendError(request, reply, toAppError(error), renderPage));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new AppError('not_found', 404, 'There is nothing at this address.'), renderPage));
}
