import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { formatDurationSeconds } from '../core/duration.ts';
import { overviewPage } from '../web/pages/admin/overview-page.ts';
import { settingsPage } from '../web/pages/admin/settings-page.ts';
import { apiKeyRoutes } from './api-keys-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { clientRoutes } from './clients-routes.ts';
import { createAdminContext, type AdminConsoleDeps } from './context.ts';
import { groupRoutes } from './groups-routes.ts';
import { guardAdminApi, guardAdminScope } from './guard.ts';
import { userRoutes } from './users-routes.ts';

export type { AdminConsoleDeps } from './context.ts';

/** "720h (30 days)": the variable's own syntax, and what it means. */
const sessionText = (seconds: number) =>
  seconds >= 86_400 && seconds % 86_400 === 0 ? `${formatDurationSeconds(seconds)} (${seconds / 86_400} days)` : formatDurationSeconds(seconds);

const adminScript = readFileSync(new URL('../web/assets/admin.js', import.meta.url));

/**
 * The admin console under /admin (server-rendered; forms work without JavaScript), its copy-button
 * script, and an early admin check for the admin JSON API. Every /admin route lives in one
 * encapsulated scope whose hooks check the caller, so none can be added unguarded.
 */
export async function adminConsoleRoutes(app: FastifyInstance, deps: AdminConsoleDeps): Promise<void> {
  guardAdminApi(app, deps);
  app.get('/assets/admin.js', (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(adminScript));

  const ctx = createAdminContext(deps);
  const { database, config } = deps.services;
  await app.register(async (scope) => {
    guardAdminScope(scope, deps);

    scope.get('/', async (request, reply) => {
      const count = async (table: 'users' | 'groups' | 'oidc_clients' | 'api_keys') =>
        Number((await database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const withoutPasskey = await database.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('disabled', '=', 0).where(({ not, exists, selectFrom }) => not(exists(selectFrom('passkeys').select('passkeys.id').whereRef('passkeys.user_id', '=', 'users.id'))))
        .executeTakeFirstOrThrow();
      return ctx.send(reply, overviewPage({
        frame: ctx.frame(request, reply, 'overview'),
        counts: { users: await count('users'), groups: await count('groups'), clients: await count('oidc_clients'), apiKeys: await count('api_keys') },
        usersWithoutPasskey: Number(withoutPasskey.n),
      }));
    });

    userRoutes(scope, ctx);
    groupRoutes(scope, ctx);
    clientRoutes(scope, ctx);
    apiKeyRoutes(scope, ctx);
    auditRoutes(scope, ctx);

    scope.get('/settings', async (request, reply) => ctx.send(reply, settingsPage({
      frame: ctx.frame(request, reply, 'settings'),
      settings: [
        { label: 'Application name', value: config.appName, env: 'APP_NAME', note: 'Shown in page titles and to passkey managers.' },
        { label: 'Session duration', value: sessionText(config.sessionDurationSeconds), env: 'SESSION_DURATION', note: 'How long a sign-in lasts, here and at the apps, before a passkey is needed again.' },
        { label: 'Address (issuer)', value: config.origin, env: 'APP_URL', note: 'Every app is configured with it; changing it breaks existing passkeys (they belong to this host name).' },
        { label: 'ID token signing algorithm', value: config.signingAlg, env: 'OIDC_SIGNING_ALG' },
      ],
    })));
  }, { prefix: '/admin' });
}
