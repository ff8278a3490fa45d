import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '../core/errors.ts';
import { parseGoDurationMs } from '../core/duration.ts';
import { requireAdmin, type AdminActor, type AdminApiDeps } from './admin-api-routes.ts';
import { listQuerySchema, pageOf, sortOf, type ListQuery } from './list-page.ts';
import { pocketIdDtos } from './pocket-id-dto.ts';
import { readUserBody, userBodySchema, type UserBody } from './user-api-body.ts';
import type { UserSort } from './users.ts';

// Pocket ID 2.x's user endpoints (user_controller.go, onetimeaccess/module.go), same paths, bodies
// and answers; docs/configuration-id.md lists where latchkey differs.

const USER_SORT: Record<string, UserSort['column']> = {
  username: 'username', email: 'email', firstName: 'first_name', lastName: 'last_name', displayName: 'display_name',
  isAdmin: 'is_admin', disabled: 'disabled', emailVerified: 'email_verified', createdAt: 'created_at',
};

// One-time links live 1 minute to 7 days here (the console's range); Pocket ID allows up to 31 days,
// but a sign-in link that lies in a mailbox for a month is one to steal.
const LINK_TTL_SECONDS = { min: 60, max: 7 * 86_400, pocketIdDefault: 15 * 60 } as const;

const idList = (field: string) => ({ type: 'object', additionalProperties: false, required: [field], properties: { [field]: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 500 } } }) as const;

/** Pocket ID's `ttl` (seconds, or a Go duration such as "15m"), or 1.x's `expiresAt`, in seconds. */
function linkTtlSeconds(body: { ttl?: number | string; expiresAt?: string; ttlSeconds?: number } | null | undefined, nowMs: number): number {
  let seconds: number | null = LINK_TTL_SECONDS.pocketIdDefault;
  if (body?.ttlSeconds !== undefined) seconds = body.ttlSeconds;
  else if (typeof body?.ttl === 'number') seconds = body.ttl;
  else if (typeof body?.ttl === 'string' && body.ttl !== '') seconds = ((ms) => (ms === null ? null : ms / 1000))(parseGoDurationMs(body.ttl));
  else if (body?.expiresAt !== undefined) seconds = Number.isNaN(Date.parse(body.expiresAt)) ? null : (Date.parse(body.expiresAt) - nowMs) / 1000;
  if (seconds === null) throw badRequest('invalid_ttl', 'Give "ttl" as seconds or a duration such as "15m" or "24h".', { fields: { ttl: 'invalid' } });
  if (seconds === 0) seconds = LINK_TTL_SECONDS.pocketIdDefault; // Pocket ID reads 0 as "not set"
  if (seconds < LINK_TTL_SECONDS.min || seconds > LINK_TTL_SECONDS.max)
    throw badRequest('invalid_ttl', 'A one-time link lasts between 1 minute and 7 days in latchkey.', { fields: { ttl: 'out of range' } });
  return Math.round(seconds);
}

export function userApiRoutes(app: FastifyInstance, deps: AdminApiDeps): void {
  const { identity } = deps;
  const dtos = pocketIdDtos(identity);
  const audit = (request: FastifyRequest, actor: AdminActor, event: string, details: Record<string, unknown>) =>
    identity.audit.record({ event, userId: actor.kind === 'user' ? actor.id : null, ip: request.ip, userAgent: request.headers['user-agent'], details: { ...details, actor } });

  app.get<{ Querystring: ListQuery }>('/api/users', { schema: { querystring: listQuerySchema } }, async (request) => {
    await requireAdmin(deps, request);
    const { search } = request.query;
    const sort = sortOf(request.query, USER_SORT);
    const { offset, limit, pagination } = pageOf(request.query, await identity.users.count(search));
    return { data: await dtos.users(await identity.users.list({ search, sort, limit, offset })), pagination };
  });

  app.post<{ Body: UserBody }>('/api/users', { schema: { body: { ...userBodySchema, required: ['username'] } } }, async (request, reply) => {
    const actor = await requireAdmin(deps, request);
    const { fields, groupNames, groupIds } = readUserBody(request.body, { creating: true });
    const { disabled, ...newUser } = fields;
    const groups = groupIds ? await identity.groups.namesForIds(groupIds, 'userGroupIds') : groupNames;
    // One transaction: a refused group or field leaves no half-made user behind.
    const user = await identity.transaction(async (trx) => {
      const created = await identity.users.create({ ...newUser, username: newUser.username! }, trx);
      if (groups) await identity.groups.setUserGroups(created.id, groups, trx);
      return disabled ? identity.users.update(created.id, { disabled }, trx) : created;
    });
    await audit(request, actor, 'user_created', { targetUserId: user.id });
    return reply.code(201).send(await dtos.user(user));
  });

  app.get<{ Params: { id: string } }>('/api/users/:id', async (request) => {
    await requireAdmin(deps, request);
    return dtos.user(await identity.users.require(request.params.id));
  });

  // Changes only the fields sent (Pocket ID's PUT resets those left out): a script that sends a
  // partial body never demotes or re-enables someone by accident.
  app.put<{ Params: { id: string }; Body: UserBody }>('/api/users/:id', { schema: { body: userBodySchema } }, async (request) => {
    const actor = await requireAdmin(deps, request);
    const { fields, groupNames } = readUserBody(request.body, { creating: false, current: await identity.users.require(request.params.id) });
    // One transaction: a refusal (a bad field, a taken name, the last admin, an unknown group)
    // rolls the whole request back, so an error answer never leaves the groups changed.
    const user = await identity.transaction(async (trx) => {
      const updated = await identity.users.update(request.params.id, fields, trx);
      if (groupNames) await identity.groups.setUserGroups(updated.id, groupNames, trx);
      return updated;
    });
    if (fields.disabled) {
      await identity.sessions.destroyAllForUser(user.id);
      await deps.logoutEverywhere?.(user.id);
    }
    await audit(request, actor, 'user_updated', { targetUserId: user.id, fields: Object.keys(request.body) });
    return dtos.user(user);
  });

  app.delete<{ Params: { id: string } }>('/api/users/:id', async (request, reply) => {
    const actor = await requireAdmin(deps, request);
    // Removed first, as the console does: a refused removal (the last admin, 409) signs nobody out.
    await identity.users.remove(request.params.id);
    await deps.logoutEverywhere?.(request.params.id);
    await audit(request, actor, 'user_deleted', { targetUserId: request.params.id });
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/api/users/:id/groups', async (request) => {
    await requireAdmin(deps, request);
    const user = await identity.users.require(request.params.id);
    return Promise.all((await identity.groups.forUser(user.id)).map((g) => dtos.group(g)));
  });

  app.put<{ Params: { id: string }; Body: { userGroupIds: string[] } }>('/api/users/:id/user-groups', { schema: { body: idList('userGroupIds') } }, async (request) => {
    const actor = await requireAdmin(deps, request);
    const user = await identity.users.require(request.params.id);
    const names = await identity.groups.namesForIds(request.body.userGroupIds, 'userGroupIds');
    await identity.groups.setUserGroups(user.id, names);
    await audit(request, actor, 'user_updated', { targetUserId: user.id, fields: ['userGroupIds'], groups: names });
    return dtos.user(user);
  });

  // Pocket ID 2.0–2.3's own admin page sent `userId` with the ttl (its server took the user from
  // the body then, not from the path); `expiresAt` is 1.x's. Both are accepted.
  const linkBody = {
    type: ['object', 'null'], additionalProperties: false,
    properties: {
      ttl: { anyOf: [{ type: 'number' }, { type: 'string', maxLength: 30 }] }, expiresAt: { type: 'string', maxLength: 40 }, ttlSeconds: { type: 'integer' },
      userId: { type: 'string', maxLength: 64 },
    },
  } as const;
  type LinkBody = { ttl?: number | string; expiresAt?: string; ttlSeconds?: number; userId?: string } | null | undefined;

  const issueLink = async (request: FastifyRequest<{ Params: { id: string }; Body: LinkBody }>, defaultTtlSeconds: number) => {
    const actor = await requireAdmin(deps, request);
    const { userId, ...lifetime }: NonNullable<LinkBody> = request.body ?? {};
    // Pocket ID before 2.4 made the link for the body's user whatever the path said: a script
    // written then, sending two different ids, must not get a link for either one by surprise.
    if (userId !== undefined && userId !== request.params.id)
      throw badRequest('user_id_mismatch', `"userId" names another user than the path (/api/users/${request.params.id}/…); leave it out, or send the same ID.`, { fields: { userId: 'differs from the path' } });
    const user = await identity.users.require(request.params.id);
    const ttlSeconds = Object.keys(lifetime).length > 0 ? linkTtlSeconds(lifetime, Date.now()) : defaultTtlSeconds;
    // The console's rules too: refused for a disabled user (409), and the user's older unused links withdrawn.
    const { token, expiresAt } = await identity.links.issueSignIn(user.id, ttlSeconds);
    await audit(request, actor, 'one_time_link_created', { targetUserId: user.id });
    return { token, url: deps.linkUrl(token), expiresAt: new Date(expiresAt).toISOString() };
  };

  // Pocket ID's: answers { token } (opened at /lc/<token>, as there); `url` and `expiresAt` are extra.
  app.post<{ Params: { id: string }; Body: LinkBody }>('/api/users/:id/one-time-access-token', { schema: { body: linkBody } }, async (request, reply) =>
    reply.code(201).header('cache-control', 'no-store').send(await issueLink(request, LINK_TTL_SECONDS.pocketIdDefault)));

  // latchkey's own, kept for scripts already using it; a day unless `ttlSeconds` says otherwise.
  app.post<{ Params: { id: string }; Body: LinkBody }>('/api/users/:id/one-time-link', { schema: { body: linkBody } }, async (request, reply) => {
    const { url, expiresAt } = await issueLink(request, 24 * 3600);
    return reply.code(201).header('cache-control', 'no-store').send({ url, expiresAt });
  });
}
