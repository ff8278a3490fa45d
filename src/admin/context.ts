import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IdServices } from '../app/id-services.ts';
import type { ServeContext } from '../app/serve-context.ts';
import type { AdminApiDeps } from '../identity/admin-api-routes.ts';
import { displayName } from '../identity/users.ts';
import { csrfTokenFor } from '../web/csrf.ts';
import type { Html } from '../web/html.ts';
import type { AdminFrame, AdminSection } from '../web/pages/admin/admin-layout.ts';
import { adminOf } from './guard.ts';
import { createReveal, type Reveal } from '../web/reveal.ts';
import { sendPage } from '../web/send-page.ts';
import type { SignOutGaps } from '../oidc/untold-apps.ts';

export interface AdminConsoleDeps extends AdminApiDeps {
  services: IdServices;
  /** Set under `latchkey serve`, whose pages speak of its --protect rules instead of apps to add; null under `latchkey id`. */
  serve: ServeContext | null;
}

/** What every admin route file needs, built once. */
export interface AdminContext {
  deps: AdminConsoleDeps;
  services: IdServices;
  reveal: Reveal;
  /** Which apps an action's sign-out did not reach, for the page after its redirect (untold-apps.ts). */
  signOutGaps: Reveal<SignOutGaps>;
  frame(request: FastifyRequest, reply: FastifyReply, section: AdminSection): AdminFrame;
  send(reply: FastifyReply, page: Html, status?: number): FastifyReply;
  /** Records an admin action the way the admin JSON API does, marked as made in the console. */
  audit(request: FastifyRequest, event: string, details?: Record<string, unknown>, clientId?: string | null): Promise<void>;
}

export function createAdminContext(deps: AdminConsoleDeps): AdminContext {
  const { services } = deps;
  const reveal = createReveal({ store: services.store, encryptionKey: services.config.encryptionKey, purpose: 'admin-reveal' });
  const signOutGaps = createReveal<SignOutGaps>({ store: services.store, encryptionKey: services.config.encryptionKey, purpose: 'admin-sign-out-gaps' });
  return {
    deps, services, reveal, signOutGaps,
    frame(request, reply, section) {
      const admin = adminOf(request);
      return { appName: services.identity.settings.current().appName, adminName: displayName(admin), csrfToken: csrfTokenFor(request, reply, deps.csrf), section };
    },
    // Admin pages show personal data and once-only secrets: never cached, anywhere.
    send: sendPage,
    async audit(request, event, details = {}, clientId = null) {
      const admin = adminOf(request);
      await services.identity.audit.record({
        event, userId: admin.id, clientId, ip: request.ip, userAgent: request.headers['user-agent'],
        details: { ...details, actor: { kind: 'user', id: admin.id }, via: 'console' },
      });
    },
  };
}
