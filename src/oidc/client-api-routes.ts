import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '../core/errors.ts';
import type { AuditEvent } from '../identity/audit-log.ts';
import type { GroupStore } from '../identity/groups.ts';
import { listQuerySchema, pageInMemory, type ListQuery } from '../identity/list-page.ts';
import { pocketIdDtos } from '../identity/pocket-id-dto.ts';
import type { UserStore } from '../identity/users.ts';
import { clientBodySchema, readClientPatch, readNewClient, type ClientBody } from './client-api-body.ts';
import type { ClientsService } from './clients.ts';
import { clientDtos } from './pocket-id-client-dto.ts';

// Pocket ID 2.x's admin endpoints for OIDC clients (its oidc_controller.go): the same paths, the
// same request fields and the same answers wherever latchkey has the feature. Where it differs
// (no logos, no wildcard or learned callback URLs, one secret per client, a client admits nobody
// until given groups) it says so in a 400 rather than doing something else; docs/configuration-id.md
// lists every difference.
export interface ClientApiDeps {
  clients: ClientsService;
  /** Groups are named in latchkey's clients and identified by id in Pocket ID's answers. */
  people: { users: UserStore; groups: GroupStore };
  /** Throws unless the caller is an admin (API key or admin session); returns who it is. */
  requireAdmin: (request: FastifyRequest) => Promise<{ kind: string; id: string }>;
  audit: (event: AuditEvent) => Promise<void>;
}

const CLIENT_SORT = { name: 'name', createdAt: 'createdAt', isPublic: 'isPublic', pkceEnabled: 'requirePkce', isGroupRestricted: 'unrestricted' } as const;
const idList = (field: string) => ({ type: 'object', additionalProperties: false, required: [field], properties: { [field]: { type: 'array', items: { type: 'string', maxLength: 128 }, maxItems: 500 } } }) as const;

export function clientApiRoutes(app: FastifyInstance, deps: ClientApiDeps): void {
  const dtos = clientDtos(deps.people.groups);
  const record = (request: FastifyRequest, actor: { kind: string; id: string }, event: string, clientId: string | null, details: Record<string, unknown> = {}) =>
    deps.audit({ event, clientId, userId: actor.kind === 'user' ? actor.id : null, ip: request.ip, userAgent: request.headers['user-agent'], details: { ...details, actor } });

  app.get<{ Querystring: ListQuery }>('/api/oidc/clients', { schema: { querystring: listQuerySchema } }, async (request) => {
    await deps.requireAdmin(request);
    const { items, pagination } = pageInMemory(await deps.clients.list(), request.query, {
      columns: CLIENT_SORT,
      // isGroupRestricted is the opposite of unrestricted, so its order is too.
      valueOf: (client, column) => (column === 'unrestricted' ? !client.unrestricted : client[column]),
      searchIn: (client) => [client.name],
    });
    return { data: items.map(dtos.withGroupCount), pagination };
  });

  app.post<{ Body: ClientBody }>('/api/oidc/clients', { schema: { body: { ...clientBodySchema, required: ['name'] } } }, async (request, reply) => {
    const actor = await deps.requireAdmin(request);
    const { client, secret } = await deps.clients.create(readNewClient(request.body));
    await record(request, actor, 'client_created', client.id);
    // Pocket ID makes the secret in a second call (POST …/secret), which works here too; latchkey
    // makes one at once and shows it in this answer only: it keeps just its hash.
    return reply.code(201).header('cache-control', 'no-store').send({ ...(await dtos.withGroups(client)), ...(secret ? { secret } : {}) });
  });

  app.get<{ Params: { id: string } }>('/api/oidc/clients/:id', async (request) => {
    await deps.requireAdmin(request);
    return dtos.withGroups(await deps.clients.get(request.params.id));
  });

  // Changes only the fields sent (Pocket ID's PUT resets those left out), so a partial body never
  // turns PKCE off or opens a client to everyone by accident.
  app.put<{ Params: { id: string }; Body: ClientBody }>('/api/oidc/clients/:id', { schema: { body: clientBodySchema } }, async (request, reply) => {
    const actor = await deps.requireAdmin(request);
    const { client, secret } = await deps.clients.update(request.params.id, readClientPatch(request.body));
    await record(request, actor, 'client_updated', client.id, { fields: Object.keys(request.body) });
    // A client that became confidential gets a secret, shown here once.
    return reply.header('cache-control', 'no-store').send({ ...(await dtos.withGroups(client)), ...(secret ? { secret } : {}) });
  });

  app.put<{ Params: { id: string }; Body: { userGroupIds: string[] } }>('/api/oidc/clients/:id/allowed-user-groups', { schema: { body: idList('userGroupIds') } }, async (request) => {
    const actor = await deps.requireAdmin(request);
    await deps.clients.get(request.params.id);
    const allowedGroups = await deps.people.groups.namesForIds(request.body.userGroupIds, 'userGroupIds');
    // As in Pocket ID, this leaves isGroupRestricted alone: an unrestricted client still admits everyone.
    const { client } = await deps.clients.update(request.params.id, { allowedGroups });
    await record(request, actor, 'client_updated', client.id, { fields: ['allowedUserGroups'], groups: allowedGroups });
    return dtos.withGroups(client);
  });

  // Pocket ID 2.0–2.13: a new secret, answered as { secret }; the old one stops working at once.
  app.post<{ Params: { id: string } }>('/api/oidc/clients/:id/secret', async (request, reply) => {
    const actor = await deps.requireAdmin(request);
    const { secret } = await deps.clients.regenerateSecret(request.params.id);
    await record(request, actor, 'client_secret_regenerated', request.params.id);
    return reply.header('cache-control', 'no-store').send({ secret });
  });

  // Pocket ID 2.14 keeps several secrets per client, so a new one can be rolled out before the
  // old is removed. latchkey keeps one; replacing it here would break the app still using the old.
  const oneSecretOnly = async (request: FastifyRequest) => {
    await deps.requireAdmin(request);
    throw badRequest('one_secret_per_client', 'latchkey keeps one secret per client. POST /api/oidc/clients/ID/secret replaces it (the old one stops working at once).');
  };
  app.get('/api/oidc/clients/:id/secrets', oneSecretOnly);
  app.post('/api/oidc/clients/:id/secrets', oneSecretOnly);
  app.delete('/api/oidc/clients/:id/secrets/:secretId', oneSecretOnly);

  app.delete<{ Params: { id: string } }>('/api/oidc/clients/:id', async (request, reply) => {
    const actor = await deps.requireAdmin(request);
    await deps.clients.delete(request.params.id);
    await record(request, actor, 'client_deleted', request.params.id);
    return reply.code(204).send();
  });

  // The clients side of a group (Pocket ID's user_group_controller.go), here because it changes clients.
  app.put<{ Params: { id: string }; Body: { oidcClientIds: string[] } }>('/api/user-groups/:id/allowed-oidc-clients', { schema: { body: idList('oidcClientIds') } }, async (request) => {
    const actor = await deps.requireAdmin(request);
    await deps.clients.setClientsOfGroup(request.params.id, request.body.oidcClientIds);
    const group = await deps.people.groups.get(request.params.id);
    await record(request, actor, 'group_clients_updated', null, { groupId: group.id, group: group.name, clientIds: request.body.oidcClientIds });
    return pocketIdDtos(deps.people).group(group);
  });
}
