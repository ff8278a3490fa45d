import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiKeysPage } from '../web/pages/admin/api-keys-page.ts';
import { confirmPage } from '../web/pages/admin/confirm-page.ts';
import type { AdminContext } from './context.ts';
import { checked, field, fieldErrorsFrom, formBody, type FieldErrors } from '../web/form.ts';
import { adminOf } from './guard.ts';

const EXPIRY_DAYS = new Set(['', '30', '90', '365']);

export function apiKeyRoutes(scope: FastifyInstance, ctx: AdminContext): void {
  const { apiKeys } = ctx.services.identity;
  const NOTICES: Record<string, string> = { revoked: 'The API key was revoked: it stopped working.' };

  async function page(request: FastifyRequest, reply: FastifyReply, extra: { created?: { name: string; key: string } | null; alreadyShown?: boolean; values?: { name: string; expiresInDays: string }; errors?: FieldErrors; notice?: string | null; status?: number }) {
    return ctx.send(reply, apiKeysPage({
      frame: ctx.frame(request, reply, 'api-keys'), keys: await apiKeys.list(), created: extra.created ?? null, alreadyShown: extra.alreadyShown ?? false,
      values: extra.values ?? { name: '', expiresInDays: '90' }, errors: extra.errors ?? {}, notice: extra.notice,
    }), extra.status);
  }

  scope.get<{ Querystring: { reveal?: string; notice?: string } }>('/api-keys', async (request, reply) => {
    const parked = request.query.reveal ? await ctx.reveal.take(adminOf(request).id, request.query.reveal) : null;
    return page(request, reply, {
      created: parked ? { name: parked.name, key: parked.key } : null, alreadyShown: Boolean(request.query.reveal) && !parked,
      notice: NOTICES[request.query.notice ?? ''],
    });
  });

  scope.post('/api-keys', async (request, reply) => {
    const body = formBody(request.body);
    const values = { name: field(body, 'name'), expiresInDays: field(body, 'expiresInDays') };
    if (!EXPIRY_DAYS.has(values.expiresInDays)) return page(request, reply, { values, errors: { expiresInDays: 'Choose an expiry from the list.' }, status: 400 });
    try {
      const expiresAt = values.expiresInDays ? ctx.services.clock.nowMs() + Number(values.expiresInDays) * 86_400_000 : null;
      const { key, apiKey } = await apiKeys.create({ name: values.name, createdBy: adminOf(request).id, expiresAt });
      await ctx.audit(request, 'api_key_created', { apiKeyId: apiKey.id, name: apiKey.name });
      const reveal = await ctx.reveal.park(adminOf(request).id, { name: apiKey.name, key });
      return reply.redirect(`/admin/api-keys?reveal=${reveal}`, 303);
    } catch (error) {
      const errors = fieldErrorsFrom(error, 'name');
      if (!errors) throw error;
      return page(request, reply, { values, errors, status: 400 });
    }
  });

  async function confirm(request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, confirmError: string | null) {
    const key = (await apiKeys.list()).find((k) => k.id === request.params.id);
    if (!key) return reply.callNotFound();
    return ctx.send(reply, confirmPage({
      frame: ctx.frame(request, reply, 'api-keys'), title: `Revoke the API key “${key.name}”?`,
      consequences: ['Scripts using this key get “401 Unauthorized” from now on.', 'This cannot be undone; you can create a new key instead.'],
      action: `/admin/api-keys/${key.id}/revoke`, confirmLabel: `Yes, revoke “${key.name}”`, buttonLabel: 'Revoke key', cancelHref: '/admin/api-keys', confirmError,
    }), confirmError ? 400 : 200);
  }

  scope.get<{ Params: { id: string } }>('/api-keys/:id/revoke', (request, reply) => confirm(request, reply, null));
  scope.post<{ Params: { id: string } }>('/api-keys/:id/revoke', async (request, reply) => {
    if (!checked(formBody(request.body), 'confirm')) return confirm(request, reply, 'Tick this box to confirm.');
    await apiKeys.revoke(request.params.id);
    await ctx.audit(request, 'api_key_revoked', { apiKeyId: request.params.id });
    return reply.redirect('/admin/api-keys?notice=revoked', 303);
  });
}
