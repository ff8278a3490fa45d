import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServeContext } from '../app/serve-context.ts';
import type { Db } from '../storage/database.ts';
import { confirmPage } from '../web/pages/admin/confirm-page.ts';
import { groupsPage } from '../web/pages/admin/groups-page.ts';
import type { AdminContext } from './context.ts';
import { checked, field, fieldErrorsFrom, formBody, type FieldErrors } from '../web/form.ts';

/** Members and the clients limited to each group, to say what deleting one would change. */
export async function groupUsage(db: Db): Promise<Map<string, { members: number; clients: { id: string; name: string; onlyGroup: boolean }[] }>> {
  const members = await db.selectFrom('user_groups').select(['group_id', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('group_id').execute();
  const clients = await db.selectFrom('client_groups').innerJoin('oidc_clients', 'oidc_clients.id', 'client_groups.client_id')
    .select(['client_groups.group_id', 'oidc_clients.id', 'oidc_clients.name', 'oidc_clients.unrestricted']).execute();
  const groupsPerClient = new Map<string, number>();
  for (const c of clients) groupsPerClient.set(c.id, (groupsPerClient.get(c.id) ?? 0) + 1);
  const usage = new Map<string, { members: number; clients: { id: string; name: string; onlyGroup: boolean }[] }>();
  const entry = (groupId: string) => usage.get(groupId) ?? usage.set(groupId, { members: 0, clients: [] }).get(groupId)!;
  for (const m of members) entry(m.group_id).members = Number(m.n);
  for (const c of clients) if (c.unrestricted !== 1) entry(c.group_id).clients.push({ id: c.id, name: c.name, onlyGroup: groupsPerClient.get(c.id) === 1 });
  return usage;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * What deleting a group does to the site under `latchkey serve`. A section is open to members of
 * any group its --protect rule names (the proxy compares the names in the groups claim, exactly),
 * and the longest matching prefix decides alone: a section whose rule names only this group is
 * refused to every signed-in user, and no shorter rule (/private/) lets anyone in. Sessions carry
 * the groups of their sign-in until the proxy checks them again.
 */
export function siteConsequences(serve: Pick<ServeContext, 'protectRules' | 'sessionRecheckMinutes'>, name: string): string[] {
  const rules = serve.protectRules.filter((rule) => rule.groups.includes(name));
  if (!rules.length) return [`No --protect rule of latchkey serve names ${name}: nothing on the site changes.`];
  return [
    ...rules.map((rule) => {
      const others = rule.groups.filter((g) => g !== name);
      const section = `${rule.prefix} (--protect ${rule.prefix}=${rule.groups.join(',')})`;
      return others.length
        ? `${section} no longer lets its members in through this group; members of ${others.join(', ')} still get in.`
        : `${section} is closed to everyone: nobody is in a group named ${name} any more, so every signed-in user is refused there, until you create a group of that name again and add people to it, or change the rule.`;
    }),
    `Former members signed in to the site keep their access for up to ${serve.sessionRecheckMinutes} minutes, until the site checks their session again.`,
  ];
}

export function groupRoutes(scope: FastifyInstance, ctx: AdminContext): void {
  const { identity, database, clients } = ctx.services;
  const NOTICES: Record<string, string> = { created: 'Group created. Add people to it from their user page.', deleted: 'The group was deleted.' };

  async function list(request: FastifyRequest, reply: FastifyReply, extra: { values?: { name: string; friendlyName: string }; errors?: FieldErrors; notice?: string | null; status?: number } = {}) {
    const usage = await groupUsage(database.db);
    const groups = (await identity.groups.list()).map((g) => ({ ...g, memberCount: usage.get(g.id)?.members ?? 0, clientCount: usage.get(g.id)?.clients.length ?? 0 }));
    return ctx.send(reply, groupsPage({ frame: ctx.frame(request, reply, 'groups'), groups, values: extra.values ?? { name: '', friendlyName: '' }, errors: extra.errors ?? {}, notice: extra.notice,
      protectGroups: ctx.deps.serve?.protectGroups ?? null,
    }), extra.status);
  }

  scope.get<{ Querystring: { notice?: string } }>('/groups', (request, reply) => list(request, reply, { notice: NOTICES[request.query.notice ?? ''] }));

  scope.post('/groups', async (request, reply) => {
    const body = formBody(request.body);
    const values = { name: field(body, 'name'), friendlyName: field(body, 'friendlyName') };
    try {
      const group = await identity.groups.create(values);
      await ctx.audit(request, 'group_created', { group: group.name });
      return reply.redirect('/admin/groups?notice=created', 303);
    } catch (error) {
      const errors = fieldErrorsFrom(error, 'name');
      if (!errors) throw error;
      return list(request, reply, { values, errors, status: 400 });
    }
  });

  async function confirm(request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, confirmError: string | null) {
    const group = (await identity.groups.list()).find((g) => g.id === request.params.id);
    if (!group) return reply.callNotFound();
    const usage = (await groupUsage(database.db)).get(group.id) ?? { members: 0, clients: [] };
    const stranded = usage.clients.filter((c) => c.onlyGroup);
    const serve = ctx.deps.serve;
    const appLines = [
      ...usage.clients.length ? [`${plural(usage.clients.length, 'app no longer admits', 'apps no longer admit')} its members through this group.`] : serve ? [] : ['No app is limited to this group.'],
      ...stranded.map((c) => `${c.name} admits only this group: after deletion nobody can sign in to it until you choose other groups or Everyone.`),
    ];
    // Under serve, apps beyond the site's own exist only if an admin added them.
    const allowedGroupLine = !serve || (await clients.list()).some((c) => !clients.isManaged(c.id))
      ? ['Apps using --allowed-group with this name stop admitting its former members.'] : [];
    return ctx.send(reply, confirmPage({
      frame: ctx.frame(request, reply, 'groups'), title: `Delete the group ${group.name}?`,
      consequences: [
        `${plural(usage.members, 'user leaves', 'users leave')} this group; their accounts stay.`,
        ...serve ? siteConsequences(serve, group.name) : [],
        ...appLines,
        ...allowedGroupLine,
      ],
      action: `/admin/groups/${group.id}/delete`, confirmLabel: `Yes, delete the group ${group.name}`, buttonLabel: 'Delete group',
      cancelHref: '/admin/groups', confirmError,
    }), confirmError ? 400 : 200);
  }

  scope.get<{ Params: { id: string } }>('/groups/:id/delete', (request, reply) => confirm(request, reply, null));
  scope.post<{ Params: { id: string } }>('/groups/:id/delete', async (request, reply) => {
    if (!checked(formBody(request.body), 'confirm')) return confirm(request, reply, 'Tick this box to confirm.');
    await identity.groups.remove(request.params.id);
    await ctx.audit(request, 'group_deleted', { groupId: request.params.id });
    return reply.redirect('/admin/groups?notice=deleted', 303);
  });
}
