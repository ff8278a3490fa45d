import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { overviewPage } from '../web/pages/admin/overview-page.ts';
import { apiKeyRoutes } from './api-keys-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { clientRoutes } from './clients-routes.ts';
import { createAdminContext, type AdminConsoleDeps } from './context.ts';
import { groupRoutes } from './groups-routes.ts';
import { guardAdminApi, guardAdminScope } from './guard.ts';
import { settingsRoutes } from './settings-routes.ts';
import { userRoutes } from './users-routes.ts';

export type { AdminConsoleDeps } from './context.ts';

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
  const { database } = deps.services;
  await app.register(async (scope) => {
    guardAdminScope(scope, deps);

    scope.get('/', async (request, reply) => {
      const count = async (table: 'users' | 'groups' | 'oidc_clients' | 'api_keys') =>
        Number((await database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const withoutPasskey = await database.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('disabled', '=', 0).where(({ not, exists, selectFrom }) => not(exists(selectFrom('passkeys').select('passkeys.id').whereRef('passkeys.user_id', '=', 'users.id'))))
        .executeTakeFirstOrThrow();
      // Under serve its own client is no app an admin made: the tile counts the others.
      const apps = deps.serve
        ? (await deps.services.clients.list()).filter((c) => !deps.services.clients.isManaged(c.id)).length
        : await count('oidc_clients');
      return ctx.send(reply, overviewPage({
        frame: ctx.frame(request, reply, 'overview'),
        counts: { users: await count('users'), groups: await count('groups'), clients: apps, apiKeys: await count('api_keys') },
        usersWithoutPasskey: Number(withoutPasskey.n),
        underServe: deps.serve !== null,
      }));
    });

    userRoutes(scope, ctx);
    groupRoutes(scope, ctx);
    clientRoutes(scope, ctx);
    apiKeyRoutes(scope, ctx);
    auditRoutes(scope, ctx);

    settingsRoutes(scope, ctx);
  }, { prefix: '/admin' });
}
