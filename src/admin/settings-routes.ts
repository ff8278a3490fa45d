import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatDurationSeconds } from '../core/duration.ts';
import { settingsPage } from '../web/pages/admin/settings-page.ts';
import type { AdminContext } from './context.ts';
import { adminOf } from './guard.ts';
import { field, fieldErrorsFrom, formBody, type FieldErrors } from '../web/form.ts';

/** The application name and session duration (editable, stored in app_state) and the fixed server settings. */
export function settingsRoutes(scope: FastifyInstance, ctx: AdminContext): void {
  const { identity, config } = ctx.services;
  const fixed = [
    { label: 'Address (issuer)', value: config.origin, env: 'APP_URL', note: 'Every app is configured with it; changing it breaks existing passkeys (they belong to this host name).' },
    { label: 'ID token signing algorithm', value: config.signingAlg, env: 'OIDC_SIGNING_ALG' },
  ];

  async function show(request: FastifyRequest, reply: FastifyReply, extra: { values?: { appName: string; sessionDuration: string }; errors?: FieldErrors; notice?: string | null; status?: number } = {}) {
    const saved = await identity.settings.get();
    const values = extra.values ?? { appName: saved.appName, sessionDuration: formatDurationSeconds(saved.sessionDurationSeconds) };
    return ctx.send(reply, settingsPage({ frame: ctx.frame(request, reply, 'settings'), values, errors: extra.errors ?? {}, notice: extra.notice, fixed }), extra.status);
  }

  scope.get<{ Querystring: { notice?: string } }>('/settings', (request, reply) =>
    show(request, reply, { notice: request.query.notice === 'saved' ? 'Settings saved.' : null }));

  scope.post('/settings', async (request, reply) => {
    const body = formBody(request.body);
    const values = { appName: field(body, 'appName'), sessionDuration: field(body, 'sessionDuration') };
    const admin = adminOf(request);
    try {
      await identity.settings.update(values, {
        userId: admin.id, ip: request.ip, userAgent: request.headers['user-agent'],
        details: { actor: { kind: 'user', id: admin.id }, via: 'console' },
      });
      return reply.redirect('/admin/settings?notice=saved', 303);
    } catch (error) {
      const errors = fieldErrorsFrom(error, 'appName');
      if (!errors) throw error;
      return show(request, reply, { values, errors, status: 400 });
    }
  });
}
