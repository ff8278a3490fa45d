import type { FastifyInstance } from 'fastify';
import { auditPage } from '../web/pages/admin/audit-page.ts';
import type { AdminContext } from './context.ts';

const PAGE_SIZE = 50;

export function auditRoutes(scope: FastifyInstance, ctx: AdminContext): void {
  const { identity, database } = ctx.services;

  scope.get<{ Querystring: { event?: string; user?: string; before?: string } }>('/audit', async (request, reply) => {
    const filter = { event: (request.query.event ?? '').trim().slice(0, 100), user: (request.query.user ?? '').trim().slice(0, 254) };
    const before = Number.parseInt(request.query.before ?? '', 10);
    const events = (await database.db.selectFrom('audit_log').select('event').distinct().orderBy('event').execute()).map((r) => r.event);
    const user = filter.user ? await identity.users.findByLogin(filter.user) : null;
    const userError = filter.user && !user ? `No user has the username or email “${filter.user}”.` : null;
    // One more than a page tells whether older entries exist.
    const found = userError ? [] : await identity.audit.list({
      event: filter.event || undefined, userId: user?.id, before: Number.isFinite(before) && before > 0 ? before : undefined, limit: PAGE_SIZE + 1,
    });
    const shown = found.slice(0, PAGE_SIZE);
    const names = new Map<string, string>();
    for (const id of new Set(shown.map((e) => e.userId).filter((id): id is string => Boolean(id))))
      names.set(id, (await identity.users.get(id))?.username ?? `deleted user ${id.slice(0, 8)}`);
    return ctx.send(reply, auditPage({
      frame: ctx.frame(request, reply, 'audit'), events, filter, userError,
      entries: shown.map((e) => ({
        id: e.id, createdAt: e.createdAt, event: e.event, user: e.userId ? names.get(e.userId) ?? null : null, clientId: e.clientId, ip: e.ip,
        details: JSON.stringify(e.details),
      })),
      olderBefore: found.length > PAGE_SIZE ? shown[shown.length - 1].createdAt : null,
      isFirstPage: !(Number.isFinite(before) && before > 0),
    }), userError ? 400 : 200);
  });
}
