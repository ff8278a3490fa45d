import type { FastifyInstance } from 'fastify';
import { formBody, optionalField } from '../web/form.ts';
import { auditPage } from '../web/pages/admin/audit-page.ts';
import type { AdminContext } from './context.ts';

const PAGE_SIZE = 50;

/**
 * The audit log pages backwards with audit.list's `before` (created_at < before, newest first,
 * ties in id order). Several entries can share a millisecond, so a page may end in the middle of
 * one: the cursor is that millisecond plus how many of its entries were already shown, and the
 * next page asks for `before = ms + 1` and skips those. Nothing is skipped or shown twice.
 */
export function auditRoutes(scope: FastifyInstance, ctx: AdminContext): void {
  const { identity, database } = ctx.services;

  scope.get<{ Querystring: { before?: string; seen?: string } }>('/audit', async (request, reply) => {
    // The filter is a GET form: its fields are read as any form's.
    const query = formBody(request.query);
    const filter = { event: optionalField(query, 'event').slice(0, 100), user: optionalField(query, 'user').slice(0, 254) };
    const cursorMs = Number.parseInt(request.query.before ?? '', 10);
    const hasCursor = Number.isSafeInteger(cursorMs) && cursorMs > 0;
    const seen = hasCursor ? Math.min(10_000, Math.max(0, Number.parseInt(request.query.seen ?? '0', 10) || 0)) : 0;
    const events = (await database.db.selectFrom('audit_log').select('event').distinct().orderBy('event').execute()).map((r) => r.event);
    const user = filter.user ? await identity.users.findByLogin(filter.user) : null;
    const userError = filter.user && !user ? `No user has the username or email “${filter.user}”.` : null;
    // One more than a page tells whether older entries exist.
    const found = userError ? [] : (await identity.audit.list({
      event: filter.event || undefined, userId: user?.id, before: hasCursor ? cursorMs + 1 : undefined, limit: seen + PAGE_SIZE + 1,
    })).slice(seen);
    const shown = found.slice(0, PAGE_SIZE);
    const last = shown.at(-1);
    const older = found.length > PAGE_SIZE && last
      ? { before: last.createdAt, seen: shown.filter((e) => e.createdAt === last.createdAt).length + (last.createdAt === cursorMs ? seen : 0) }
      : null;
    const names = new Map<string, string>();
    const targetOf = (details: Record<string, unknown>) => (typeof details.targetUserId === 'string' ? details.targetUserId : null);
    for (const id of new Set(shown.flatMap((e) => [e.userId, targetOf(e.details)]).filter((id): id is string => Boolean(id))))
      names.set(id, (await identity.users.get(id))?.username ?? `deleted user ${id.slice(0, 8)}`);
    // Details for people: the target user by name; the actor is already the User column.
    const readable = (details: Record<string, unknown>) => Object.entries(details)
      .filter(([key]) => key !== 'actor' && key !== 'via')
      .map(([key, value]) => key === 'targetUserId' ? `user: ${names.get(String(value))}` : `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(', ');
    return ctx.send(reply, auditPage({
      frame: ctx.frame(request, reply, 'audit'), events, filter, userError,
      entries: shown.map((e) => ({
        id: e.id, createdAt: e.createdAt, event: e.event, user: e.userId ? names.get(e.userId) ?? null : null, clientId: e.clientId, ip: e.ip,
        details: readable(e.details),
      })),
      older, isFirstPage: !hasCursor,
    }), userError ? 400 : 200);
  });
}
