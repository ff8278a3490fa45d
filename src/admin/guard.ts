import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { forbidden } from '../core/errors.ts';
import { requireAdmin, type AdminApiDeps } from '../identity/admin-api-routes.ts';
import { currentUser } from '../identity/routes.ts';
import type { User } from '../identity/users.ts';
import { assertSameOrigin } from '../web/csrf.ts';
import { formBody } from '../web/form.ts';

const admins = new WeakMap<FastifyRequest, User>();

/** The admin making this request; only callable inside the guarded /admin scope. */
export function adminOf(request: FastifyRequest): User {
  const user = admins.get(request);
  if (!user) throw new Error('adminOf() called outside the guarded /admin scope');
  return user;
}

/**
 * Installs the guard on every route of an encapsulated scope, so a route added there later cannot
 * forget it. Before the body is even parsed: a signed-out visitor is sent to sign in, a signed-in
 * non-admin gets 403. After parsing: a change must come from our own pages (Origin/Sec-Fetch-Site
 * and the form's csrf field).
 */
export function guardAdminScope(scope: FastifyInstance, deps: AdminApiDeps): void {
  scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const signedIn = await currentUser(deps.identity, request, deps.secureCookies);
    if (!signedIn) {
      // A form post cannot be replayed after sign-in, so it comes back to the console's start.
      const next = request.method === 'GET' || request.method === 'HEAD' ? request.url : '/admin';
      return reply.header('cache-control', 'no-store').redirect(`/login?next=${encodeURIComponent(next)}`, request.method === 'GET' ? 302 : 303);
    }
    if (!signedIn.user.isAdmin) throw forbidden('This page is for administrators. Ask an admin if you need access.');
    admins.set(request, signedIn.user);
  });
  scope.addHook('preHandler', async (request) => {
    assertSameOrigin(request, deps.csrf, formBody(request.body));
  });
}

// The admin JSON API (identity/admin-api-routes.ts, oidc/client-api-routes.ts) checks the caller
// inside each handler, after fastify has parsed and validated the body: a stranger learned "your
// body is invalid" before "who are you?". This checks first, before the body is read.
const ADMIN_API_PREFIXES = ['/api/users', '/api/user-groups', '/api/audit-log', '/api/oidc/clients', '/api/api-keys'];

export const isAdminApiPath = (routeUrl: string): boolean =>
  ADMIN_API_PREFIXES.some((prefix) => routeUrl === prefix || routeUrl.startsWith(`${prefix}/`));

export function guardAdminApi(app: FastifyInstance, deps: AdminApiDeps): void {
  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url;
    if (route && isAdminApiPath(route)) await requireAdmin(deps, request);
  });
}
