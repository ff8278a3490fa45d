import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditEvent } from '../identity/audit-log.ts';
import type { ClientsService } from './clients.ts';

// Pocket ID's admin API paths for OIDC clients, so scripts written for it keep working.
export interface ClientApiDeps {
  clients: ClientsService;
  /** Throws unless the caller is an admin (API key or admin session); returns who it is. */
  requireAdmin: (request: FastifyRequest) => Promise<{ kind: string; id: string }>;
  audit: (event: AuditEvent) => Promise<void>;
}

const uriList = { type: 'array', items: { type: 'string', maxLength: 2000 }, maxItems: 50 } as const;
const clientProperties = {
  name: { type: 'string', minLength: 1, maxLength: 100 },
  redirectUris: uriList,
  postLogoutRedirectUris: uriList,
  isPublic: { type: 'boolean' },
  requirePkce: { type: 'boolean' },
  allowedGroups: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 100 },
  unrestricted: { type: 'boolean' },
  backchannelLogoutUri: { type: ['string', 'null'], maxLength: 2000 },
} as const;

type ClientBody = Parameters<ClientsService['create']>[0];

export function clientApiRoutes(app: FastifyInstance, deps: ClientApiDeps): void {
  const record = (request: FastifyRequest, actor: { kind: string; id: string }, event: string, clientId: string) =>
    deps.audit({ event, clientId, userId: actor.kind === 'user' ? actor.id : null, ip: request.ip, userAgent: request.headers['user-agent'], details: { actor } });

  app.get('/api/oidc/clients', async (request) => {
    await deps.requireAdmin(request);
    return { clients: await deps.clients.list() };
  });

  app.post<{ Body: ClientBody }>('/api/oidc/clients', {
    schema: { body: { type: 'object', additionalProperties: false, required: ['name', 'redirectUris'], properties: { id: { type: 'string', maxLength: 100 }, ...clientProperties } } },
  }, async (request, reply) => {
    const actor = await deps.requireAdmin(request);
    const { client, secret } = await deps.clients.create(request.body);
    await record(request, actor, 'client_created', client.id);
    // The secret is shown in this response only; latchkey keeps just its hash.
    return reply.code(201).header('cache-control', 'no-store').send({ client, secret });
  });

  app.get<{ Params: { id: string } }>('/api/oidc/clients/:id', async (request) => {
    await deps.requireAdmin(request);
    return deps.clients.get(request.params.id);
  });

  app.put<{ Params: { id: string }; Body: Partial<ClientBody> }>('/api/oidc/clients/:id', {
    schema: { body: { type: 'object', additionalProperties: false, properties: clientProperties } },
  }, async (request, reply) => {
    const actor = await deps.requireAdmin(request);
    const result = await deps.clients.update(request.params.id, request.body);
    await record(request, actor, 'client_updated', request.params.id);
    // A client that became confidential gets a secret, shown here once.
    return reply.header('cache-control', 'no-store').send(result);
  });

  app.post<{ Params: { id: string } }>('/api/oidc/clients/:id/secret', async (request, reply) => {
    const actor = await deps.requireAdmin(request);
    const result = await deps.clients.regenerateSecret(request.params.id);
    await record(request, actor, 'client_secret_regenerated', request.params.id);
    return reply.header('cache-control', 'no-store').send(result);
  });

  app.delete<{ Params: { id: string } }>('/api/oidc/clients/:id', async (request, reply) => {
    const actor = await deps.requireAdmin(request);
    await deps.clients.delete(request.params.id);
    await record(request, actor, 'client_deleted', request.params.id);
    return reply.code(204).send();
  });
}
