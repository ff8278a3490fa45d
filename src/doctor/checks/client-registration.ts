import { type Check, combine, fail, skip, type CheckResult } from '../check.ts';

// The proxy's callback must be registered with its client at the provider, exactly; and a client
// that is neither unrestricted nor open to a group lets nobody in. The fixes name --unrestricted
// first: there is no command that makes a group, so --group works only after the admin console did.
export const clientRegistration: Check = {
  id: 'client-registration',
  title: "The proxy's client is registered with its callback and lets someone in",
  async run(ctx) {
    const database = await ctx.database().catch((error: Error) => ({ error: error.message }));
    if (!database) return skip(ctx.noDatabase);
    if ('error' in database) return fail(`the database could not be opened: ${database.error}`, 'pass the id\'s database: DB_CONNECTION_STRING=… (a SQLite path or postgres:// URL)');
    if (!ctx.clientId) return skip('no client ID given (--client-id, or the proxy options)');
    const client = await database.db.selectFrom('oidc_clients').selectAll().where('id', '=', ctx.clientId).executeTakeFirst();
    if (!client) {
      const known = (await database.db.selectFrom('oidc_clients').select('id').execute()).map((c) => c.id);
      return fail(`no client "${ctx.clientId}" at the provider${known.length ? ` (it has: ${known.join(', ')})` : ''}: every sign-in ends with "invalid_client"`,
        `latchkey client add --name site --id ${ctx.clientId} --redirect-uri ${ctx.urls.site ?? 'https://agents.example.com'}/oauth2/callback --unrestricted (or --group G, for a group made first in the admin console, /admin/groups), and give its secret to the proxy`);
    }
    const results: CheckResult[] = [];
    const registered = JSON.parse(client.redirect_uris) as string[];
    const redirect = ctx.proxy?.raw.get('redirect-url');
    const callback = typeof redirect === 'string' ? redirect : ctx.urls.site ? `${ctx.urls.site}/oauth2/callback` : null;
    if (callback && !registered.includes(callback))
      results.push(fail(`client "${client.id}" has redirect URIs ${registered.join(', ') || '(none)'} but the proxy returns to ${callback}: the provider refuses the sign-in (redirect_uri mismatch)`,
        `register it exactly (scheme and port included): latchkey client remove ${client.id}, then latchkey client add --id ${client.id} --name ${client.name} --redirect-uri ${callback} (--unrestricted or --group G), and give the proxy the new secret`));
    if (client.unrestricted !== 1) {
      const groups = await database.db.selectFrom('client_groups').innerJoin('groups', 'groups.id', 'client_groups.group_id').select('groups.name').where('client_id', '=', client.id).execute();
      if (!groups.length) results.push(fail(`client "${client.id}" is restricted to groups but has none: nobody can sign in to the site`, `latchkey client remove ${client.id}, then latchkey client add --id ${client.id} --name ${client.name} --redirect-uri … --unrestricted, or make a group in the admin console (/admin/groups), then --group G and latchkey user update <username> --group G`));
    }
    return combine(results, `client "${client.id}" lists ${callback ?? 'its callback'}${client.unrestricted === 1 ? ', open to every user' : ', open to its groups'}`);
  },
};
