import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '../core/errors.ts';
import { requireAdmin, type AdminActor, type AdminApiDeps } from './admin-api-routes.ts';
import type { Group } from './groups.ts';
import { listQuerySchema, pageInMemory, type ListQuery } from './list-page.ts';
import { groupMinimalDto, pocketIdDtos } from './pocket-id-dto.ts';

// Pocket ID 2.x's user-group endpoints (user_group_controller.go). The clients side of a group,
// PUT /api/user-groups/:id/allowed-oidc-clients, lives with the clients (oidc/client-api-routes.ts).

const GROUP_SORT = { name: 'name', friendlyName: 'friendlyName', createdAt: 'createdAt', userCount: 'userCount' } as const;

const groupBody = (required: string[]) => ({
  type: 'object', additionalProperties: false, required,
  properties: {
    name: { type: 'string', maxLength: 64 },
    friendlyName: { type: 'string', maxLength: 100 },
    // What GET answers and a script may send back unchanged; read-only, as in Pocket ID. Some
    // Pocket ID builds' UserGroupDto carries `ldapAttributes` too (LDAP, which latchkey lacks).
    id: { type: 'string', maxLength: 64 }, customClaims: { type: 'array', maxItems: 100 }, ldapId: { type: 'null' },
    ldapAttributes: { type: ['array', 'null'], maxItems: 100 },
    createdAt: {}, userCount: {}, users: { type: 'array' }, allowedOidcClients: { type: 'array' },
  },
}) as const;

export function userGroupApiRoutes(app: FastifyInstance, deps: AdminApiDeps): void {
  const { identity } = deps;
  const dtos = pocketIdDtos(identity);
  const audit = (request: FastifyRequest, actor: AdminActor, event: string, details: Record<string, unknown>) =>
    identity.audit.record({ event, userId: actor.kind === 'user' ? actor.id : null, ip: request.ip, userAgent: request.headers['user-agent'], details: { ...details, actor } });

  app.get<{ Querystring: ListQuery }>('/api/user-groups', { schema: { querystring: listQuerySchema } }, async (request) => {
    await requireAdmin(deps, request);
    const counts = await identity.groups.memberCounts();
    const all = (await identity.groups.list()).map((g) => ({ group: g, userCount: counts.get(g.id) ?? 0 }));
    const { items, pagination } = pageInMemory(all, request.query, {
      columns: GROUP_SORT,
      valueOf: (item, column) => (column === 'userCount' ? item.userCount : item.group[column]),
      searchIn: (item) => [item.group.name, item.group.friendlyName],
    });
    return { data: items.map((item) => groupMinimalDto(item.group, item.userCount)), pagination };
  });

  app.get<{ Params: { id: string } }>('/api/user-groups/:id', async (request) => {
    await requireAdmin(deps, request);
    return dtos.group(await identity.groups.get(request.params.id));
  });

  app.post<{ Body: { name: string; friendlyName?: string } }>('/api/user-groups', { schema: { body: groupBody(['name']) } }, async (request, reply) => {
    const actor = await requireAdmin(deps, request);
    const group = await identity.groups.create({ name: request.body.name, friendlyName: request.body.friendlyName });
    await audit(request, actor, 'group_created', { group: group.name });
    return reply.code(201).send(await dtos.group(group));
  });

  // Pocket ID's PUT sends both names; either alone changes just that one here.
  app.put<{ Params: { id: string }; Body: { name?: string; friendlyName?: string } }>('/api/user-groups/:id', { schema: { body: groupBody([]) } }, async (request) => {
    const actor = await requireAdmin(deps, request);
    const before: Group = await identity.groups.get(request.params.id);
    // The name is what the groups claim carries, and what --protect rules, allowed_groups= lists
    // and --allowed-group match, which live in configuration files latchkey cannot update: renamed,
    // the group's members would lose access, and a new group taking the old name would gain it.
    if (request.body.name !== undefined && request.body.name !== before.name)
      throw badRequest('group_name_fixed', `A group's name cannot be changed here: it is what access rules in the proxy and web server configuration match ("${before.name}"). Change friendlyName, or create a group with the new name, move the members and update those rules.`, { fields: { name: 'fixed' } });
    const group = await identity.groups.update(before.id, { friendlyName: request.body.friendlyName });
    await audit(request, actor, 'group_updated', { groupId: group.id, group: group.name });
    return dtos.group(group);
  });

  app.delete<{ Params: { id: string } }>('/api/user-groups/:id', async (request, reply) => {
    const actor = await requireAdmin(deps, request);
    await identity.groups.remove(request.params.id);
    await audit(request, actor, 'group_deleted', { groupId: request.params.id });
    return reply.code(204).send();
  });

  app.put<{ Params: { id: string }; Body: { userIds: string[] } }>('/api/user-groups/:id/users', {
    schema: { body: { type: 'object', additionalProperties: false, required: ['userIds'], properties: { userIds: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 1000 } } } },
  }, async (request) => {
    const actor = await requireAdmin(deps, request);
    await identity.groups.setMembers(request.params.id, request.body.userIds);
    const group = await identity.groups.get(request.params.id);
    await audit(request, actor, 'group_members_updated', { groupId: group.id, group: group.name, userIds: request.body.userIds });
    return dtos.group(group);
  });
}
