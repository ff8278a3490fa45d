import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LogoutReport } from '../oidc/logout-user.ts';
import type { Passkey } from '../webauthn/passkey-store.ts';
import { forbidden, unauthorized } from '../core/errors.ts';
import { assertSameOrigin, type CsrfOptions } from '../web/csrf.ts';
import type { Identity } from './index.ts';
import { currentUser } from './routes.ts';
import { userApiRoutes } from './user-api-routes.ts';
import { userGroupApiRoutes } from './user-group-api-routes.ts';

export interface AdminApiDeps {
  identity: Identity;
  secureCookies: boolean;
  csrf: CsrfOptions;
  /** Builds the absolute URL of a one-time sign-in link. */
  linkUrl: (token: string) => string;
  /**
   * Ends a user's OIDC sessions everywhere (back-channel logout), when they are disabled or
   * removed; the report names the apps that could not be told (the console shows them).
   */
  logoutEverywhere?: (userId: string) => Promise<LogoutReport>;
  /** A user's passkeys (console and API alike). */
  passkeys: {
    list(userId: string): Promise<Passkey[]>;
    /**
     * Removes one as an admin (src/admin/passkey-reset.ts's rule) and signs the user out
     * everywhere, so a session the lost device still holds ends too. The report is that sign-out's.
     */
    remove(userId: string, passkeyId: string): Promise<LogoutReport>;
  };
}

export type AdminActor = { kind: 'api_key'; id: string; name: string } | { kind: 'user'; id: string };

/**
 * Who is calling the admin API: an API key in `X-API-KEY` (Pocket ID's header), or a signed-in
 * admin's browser session (then same-origin and CSRF checks apply to changes).
 */
export async function requireAdmin(deps: AdminApiDeps, request: FastifyRequest): Promise<AdminActor> {
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string') {
    const key = await deps.identity.apiKeys.verify(apiKey);
    if (!key) throw unauthorized('The API key is not valid, has expired, or the admin who created it is no longer an active admin.');
    return { kind: 'api_key', id: key.id, name: key.name };
  }
  const signedIn = await currentUser(deps.identity, request, deps.secureCookies);
  if (!signedIn) throw unauthorized('Sign in as an admin, or send an API key in the X-API-KEY header.');
  if (!signedIn.user.isAdmin) throw forbidden('Only admins can do this.');
  assertSameOrigin(request, deps.csrf);
  return { kind: 'user', id: signedIn.user.id };
}

export function adminApiRoutes(app: FastifyInstance, deps: AdminApiDeps): void {
  const { identity } = deps;
  const audit = (request: FastifyRequest, actor: AdminActor, event: string, details: Record<string, unknown>) =>
    identity.audit.record({ event, userId: actor.kind === 'user' ? actor.id : null, ip: request.ip, userAgent: request.headers['user-agent'], details: { ...details, actor } });

  userApiRoutes(app, deps);
  userGroupApiRoutes(app, deps);

  // Pocket ID's admin passkey management (GET/DELETE /api/users/:id/webauthn-credentials): for a
  // lost device. Removing one signs the user out everywhere, as in the console.
  app.get<{ Params: { id: string } }>('/api/users/:id/webauthn-credentials', async (request) => {
    await requireAdmin(deps, request);
    const user = await identity.users.require(request.params.id);
    return (await deps.passkeys.list(user.id)).map((p) => ({
      id: p.id, credentialID: p.id, name: p.name, transport: p.transports, backupEligible: p.backupEligible, backupState: p.backupState,
      createdAt: new Date(p.createdAtMs).toISOString(), lastUsedAt: p.lastUsedAtMs === null ? null : new Date(p.lastUsedAtMs).toISOString(),
    }));
  });

  app.delete<{ Params: { id: string; credentialId: string } }>('/api/users/:id/webauthn-credentials/:credentialId', async (request, reply) => {
    const actor = await requireAdmin(deps, request);
    const user = await identity.users.require(request.params.id);
    await deps.passkeys.remove(user.id, request.params.credentialId);
    await audit(request, actor, 'passkey_deleted', { targetUserId: user.id, passkeyId: request.params.credentialId });
    return reply.code(204).send();
  });

  app.get<{ Querystring: { userId?: string; event?: string; before?: number; limit?: number } }>('/api/audit-log', {
    schema: { querystring: { type: 'object', properties: { userId: { type: 'string' }, event: { type: 'string' }, before: { type: 'integer' }, limit: { type: 'integer', minimum: 1, maximum: 500 } } } },
  }, async (request) => {
    await requireAdmin(deps, request);
    return { entries: await identity.audit.list(request.query) };
  });
}
