import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

// On https the __Host- prefix pins the cookie to this exact host, path / and Secure
// (RFC 6265bis §4.1.3.2); on http://localhost the prefix is not allowed, so the plain name is used.
export interface SessionCookieOptions {
  secure: boolean;
  ttlSeconds: number;
}

export const sessionCookieName = (secure: boolean) => (secure ? '__Host-latchkey_session' : 'latchkey_session');

export function setSessionCookie(reply: FastifyReply, token: string, options: SessionCookieOptions): void {
  reply.setCookie(sessionCookieName(options.secure), token, {
    path: '/', httpOnly: true, secure: options.secure, sameSite: 'lax', maxAge: options.ttlSeconds,
  });
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(sessionCookieName(secure), { path: '/', httpOnly: true, secure, sameSite: 'lax' });
}

export const readSessionToken = (request: FastifyRequest, secure: boolean): string | undefined =>
  request.cookies[sessionCookieName(secure)];
