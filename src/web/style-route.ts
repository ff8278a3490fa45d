import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const stylesheet = readFileSync(new URL('./assets/style.css', import.meta.url));

/** Serves the one stylesheet; it changes only with a release, so it may be cached for a day. */
export function styleRoute(app: FastifyInstance): void {
  app.get('/assets/style.css', (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=86400').send(stylesheet));
}
