import type { FastifyReply } from 'fastify';
import type { Html } from './html.ts';

/** One of our own pages: HTML in UTF-8, never cached (it may name who is signed in, or carry a form's CSRF token). */
export const sendPage = (reply: FastifyReply, page: Html, status = 200) =>
  reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page.value);
