import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Passkey } from '../webauthn/passkey-store.ts';
import { forbidden, unauthorized } from '../core/errors.ts';
import { assertSameOrigin, type CsrfOptions } from '../web/csrf.ts';
import type { Identity } from './index.ts';
import { currentUser } from './routes.ts';

export interface AdminApiDeps {
  identity: Identity;
  secureCookies: boolean;
  csrf: CsrfOptions;
  /** Builds the absolute URL of a one-time sign-in link. */
  linkUrl: (token: string) => string;
  /** Ends a user's OIDC sessions everywhere (back-channel logout), when they are disabled. */
  logoutEverywhere?: (userId: string) => Promise<void>;
  /** A user's passkeys (console and API alike). */
  passkeys: {
    list(userId: string): Promise<Passkey[]>;
    /**
     * Removes one as an admin (src/admin/passkey-reset.ts's rule) and signs the user out
     * everywhere, so a session the lost device still holds ends too.
     */
    remove(userId: string, passkeyId: string): Promise<void>;
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

const userBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    username: { type: 'string', maxLength: 50 },
    email: { type: ['string', 'null'], maxLength: 254 },
    firstName: { type: 'string', maxLength: 100 },
    lastName: { type: 'string', maxLength: 100 },
    isAdmin: { type: 'boolean' },
    disabled: { type: 'boolean' },
    emailVerified: { type: 'boolean' },
    groups: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 100 },
  },
} as const;

interface UserBody {
  username?: string; email?: string | null; firstName?: string; lastName?: string;
  isAdmin?: boolean; disabled?: boolean; emailVerified?: boolean; groups?: string[];
}

export function adminApiRoutes(app: FastifyInstance, deps: AdminApiDeps): void {
  const { identity } = deps;
  const audit = (request: FastifyRequest, actor: AdminActor, event: string, details: Record<string, unknown>) =>
    identity.audit.record({ event, userId: actor.kind === 'user' ? actor.id : null, ip: request.ip, userAgent: request.headers['user-agent'], details: { ...details, actor } });
  const withGroups = async (user: Awaited<ReturnType<typeof identity.users.require>>) => ({ ...user, groups: await identity.groups.namesForUser(user.id) });

  app.get<{ Querystring: { search?: string; limit?: number; offset?: number } }>('/api/users', {
    schema: { querystring: { type: 'object', properties: { search: { type: 'string', maxLength: 100 }, limit: { type: 'integer', minimum: 1, maximum: 500 }, offset: { type: 'integer', minimum: 0 } } } },
  }, async (request) => {
    await requireAdmin(deps, request);
    const users = await identity.users.list(request.query);
    return { users: await Promise.all(users.map(withGroups)) };
  });

  app.post<{ Body: UserBody }>('/api/users', { schema: { body: { ...userBody, required: ['username'] } } }, async (request, reply) => {
    const actor = await requireAdmin(deps, request);
    const { groups, disabled: _ignored, ...fields } = request.body;
    // Check the groups before creating anything, so a bad request changes nothing.
    if (groups?.length) await identity.groups.assertExist(groups);
    const user = await identity.users.create({ ...fields, username: fields.username! });
    if (groups) await identity.groups.setUserGroups(user.id, groups);
    await audit(request, actor, 'user_created', { targetUserId: user.id });
    return reply.code(201).send(await withGroups(user));
  });

  app.get<{ Params: { id: string } }>('/api/users/:id', async (request) => {
    await requireAdmin(deps, request);
    return withGroups(await identity.users.require(request.params.id));
  });

  app.put<{ Params: { id: string }; Body: UserBody }>('/api/users/:id', { schema: { body: userBody } }, async (request) => {
    const actor = await requireAdmin(deps, request);
    const { groups, ...changes } = request.body;
    // One transaction: a refusal (a bad field, a taken name, the last admin, an unknown group)
    // rolls the whole request back, so an error answer never leaves the groups changed.
    const user = await identity.transaction(async (trx) => {
      const updated = await identity.users.update(request.params.id, changes, trx);
      if (groups) await identity.groups.setUserGroups(updated.id, groups, trx);
      return updated;
    });
    if (changes.disabled) {
      await identity.sessions.destroyAllForUser(user.id);
      await deps.logoutEverywhere?.(user.id);
    }
    await audit(request, actor, 'user_updated', { targetUserId: user.id, fields: Object.keys(request.body) });
    return withGroups(user);
  });

  app.delete<{ Params: { id: string } }>('/api/users/:id', async (request, reply) => {
    const actor = await requireAdmin(deps, request);
    await deps.logoutEverywhere?.(request.params.id);
    await identity.users.remove(request.params.id);
    await audit(request, actor, 'user_deleted', { targetUserId: request.params.id });
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string }; Body: { ttlSeconds?: number } | undefined }>('/api/users/:id/one-time-link', {
    schema: { body: { type: ['object', 'null'], additionalProperties: false, properties: { ttlSeconds: { type: 'integer', minimum: 60, maximum: 7 * 86400 } } } },
  }, async (request, reply) => {
    const actor = await requireAdmin(deps, request);
    const user = await identity.users.require(request.params.id);
    const { token, expiresAt } = await identity.links.issue('signin', user.id, request.body?.ttlSeconds ?? 24 * 3600);
    await audit(request, actor, 'one_time_link_created', { targetUserId: user.id });
    return reply.code(201).send({ url: deps.linkUrl(token), expiresAt: new Date(expiresAt).toISOString() });
  });

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

  app.get('/api/user-groups', async (request) => {
    await requireAdmin(deps, request);
    return { groups: await identity.groups.list() };
  });

  app.post<{ Body: { name: string; friendlyName?: string } }>('/api/user-groups', {
    schema: { body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', maxLength: 64 }, friendlyName: { type: 'string', maxLength: 100 } } } },
  }, async (request, reply) => {
    const actor = await requireAdmin(deps, request);
    const group = await identity.groups.create(request.body);
    await audit(request, actor, 'group_created', { group: group.name });
    return reply.code(201).send(group);
  });

  app.delete<{ Params: { id: string } }>('/api/user-groups/:id', async (request, reply) => {
    const actor = await requireAdmin(deps, request);
    await identity.groups.remove(request.params.id);
    await audit(request, actor, 'group_deleted', { groupId: request.params.id });
    return reply.code(204).send();
  });

  app.get<{ Querystring: { userId?: string; event?: string; before?: number; limit?: number } }>('/api/audit-log', {
    schema: { querystring: { type: 'object', properties: { userId: { type: 'string' }, event: { type: 'string' }, before: { type: 'integer' }, limit: { type: 'integer', minimum: 1, maximum: 500 } } } },
  }, async (request) => {
    await requireAdmin(deps, request);
    return { entries: await identity.audit.list(request.query) };
  });
}
