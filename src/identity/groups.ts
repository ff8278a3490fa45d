import type { Clock } from '../core/clock.ts';
import { badRequest, conflict, notFound } from '../core/errors.ts';
import { refuseUnknownIds } from './unknown-ids.ts';
import { randomId } from '../core/random.ts';
import type { Db, DbOrTransaction } from '../storage/database.ts';
import { refusingDuplicates } from './unique-violation.ts';
import { inTransaction } from './users.ts';

export interface Group {
  id: string;
  name: string;
  friendlyName: string;
  createdAt: number;
}

// Group names travel in the `groups` claim and in nginx's `allowed_groups=` query, so they stay
// plain: no commas or spaces.
const GROUP_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;

const groupTaken = (name: string) => conflict('group_taken', `A group named "${name}" already exists.`);

export function createGroupStore(db: Db, clock: Clock) {
  const toGroup = (row: { id: string; name: string; friendly_name: string; created_at: number }): Group =>
    ({ id: row.id, name: row.name, friendlyName: row.friendly_name, createdAt: row.created_at });
  return {
    async list(): Promise<Group[]> {
      return (await db.selectFrom('groups').selectAll().orderBy('name').execute()).map(toGroup);
    },
    async findByName(name: string): Promise<Group | null> {
      const row = await db.selectFrom('groups').selectAll().where('name', '=', name).executeTakeFirst();
      return row ? toGroup(row) : null;
    },
    async create(input: { name: string; friendlyName?: string }): Promise<Group> {
      if (!GROUP_NAME.test(input.name))
        throw badRequest('invalid_group', 'Use 1–64 letters, digits, dots, dashes or underscores for a group name (no spaces or commas).', { fields: { name: 'invalid' } });
      if (await this.findByName(input.name)) throw groupTaken(input.name);
      const row = { id: randomId(), name: input.name, friendly_name: input.friendlyName?.trim() || input.name, created_at: clock.nowMs() };
      // Another request may have taken the name since the check: the unique index says so.
      await refusingDuplicates(() => db.insertInto('groups').values(row).execute(), 'groups', { name: () => groupTaken(input.name) });
      return toGroup(row);
    },
    async get(id: string): Promise<Group> {
      const row = await db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound('This group');
      return toGroup(row);
    },
    /** Renames a group: its members' `groups` claim and any `allowed_groups=` list change with it. */
    async update(id: string, changes: { name?: string; friendlyName?: string }): Promise<Group> {
      const current = await this.get(id);
      const name = changes.name ?? current.name;
      if (!GROUP_NAME.test(name))
        throw badRequest('invalid_group', 'Use 1–64 letters, digits, dots, dashes or underscores for a group name (no spaces or commas).', { fields: { name: 'invalid' } });
      const taken = name === current.name ? null : await this.findByName(name);
      if (taken) throw groupTaken(name);
      const friendlyName = changes.friendlyName === undefined ? current.friendlyName : changes.friendlyName.trim() || name;
      await refusingDuplicates(() => db.updateTable('groups').set({ name, friendly_name: friendlyName }).where('id', '=', id).execute(), 'groups', { name: () => groupTaken(name) });
      return { ...current, name, friendlyName };
    },
    async remove(id: string): Promise<void> {
      const result = await db.deleteFrom('groups').where('id', '=', id).executeTakeFirst();
      if (!Number(result.numDeletedRows)) throw notFound('This group');
    },
    /** The names of a user's groups, sorted: what the `groups` claim carries. */
    async namesForUser(userId: string): Promise<string[]> {
      const rows = await db.selectFrom('user_groups').innerJoin('groups', 'groups.id', 'user_groups.group_id')
        .select('groups.name').where('user_groups.user_id', '=', userId).orderBy('groups.name').execute();
      return rows.map((r) => r.name);
    },
    /** A user's groups, sorted by name. */
    async forUser(userId: string): Promise<Group[]> {
      const rows = await db.selectFrom('user_groups').innerJoin('groups', 'groups.id', 'user_groups.group_id')
        .selectAll('groups').where('user_groups.user_id', '=', userId).orderBy('groups.name').execute();
      return rows.map(toGroup);
    },
    /** How many members each group has, by group id (groups without members are absent). */
    async memberCounts(): Promise<Map<string, number>> {
      const rows = await db.selectFrom('user_groups').select(['group_id', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('group_id').execute();
      return new Map(rows.map((r) => [r.group_id, Number(r.n)]));
    },
    async memberIds(groupId: string): Promise<string[]> {
      const rows = await db.selectFrom('user_groups').select('user_id').where('group_id', '=', groupId).execute();
      return rows.map((r) => r.user_id);
    },
    /** The OIDC clients limited to this group (whether or not they are currently unrestricted). */
    async clientsOf(groupId: string): Promise<{ id: string; name: string }[]> {
      return db.selectFrom('client_groups').innerJoin('oidc_clients', 'oidc_clients.id', 'client_groups.client_id')
        .select(['oidc_clients.id', 'oidc_clients.name']).where('client_groups.group_id', '=', groupId).orderBy('oidc_clients.name').execute();
    },
    /** The names of the groups with these ids, for APIs that speak in ids (Pocket ID's); unknown ids are refused. */
    async namesForIds(ids: readonly string[], field: string): Promise<string[]> {
      const unique = [...new Set(ids)];
      const rows = unique.length ? await db.selectFrom('groups').select(['id', 'name']).where('id', 'in', unique).execute() : [];
      refuseUnknownIds(unique, rows, { code: 'unknown_group', what: 'group', field });
      return rows.map((r) => r.name);
    },
    /** Replaces a group's members; every id must be an existing user's. */
    async setMembers(groupId: string, userIds: readonly string[]): Promise<void> {
      const unique = [...new Set(userIds)];
      await db.transaction().execute(async (trx) => {
        if (!(await trx.selectFrom('groups').select('id').where('id', '=', groupId).executeTakeFirst())) throw notFound('This group');
        const found = unique.length ? await trx.selectFrom('users').select('id').where('id', 'in', unique).execute() : [];
        refuseUnknownIds(unique, found, { code: 'unknown_user', what: 'user', field: 'userIds' });
        await trx.deleteFrom('user_groups').where('group_id', '=', groupId).execute();
        if (unique.length) await trx.insertInto('user_groups').values(unique.map((user_id) => ({ user_id, group_id: groupId }))).execute();
      });
    },
    /** Throws a clear error naming every group that does not exist. */
    async assertExist(names: string[]): Promise<void> {
      const unique = [...new Set(names)];
      const found = unique.length ? await db.selectFrom('groups').select('name').where('name', 'in', unique).execute() : [];
      const missing = unique.filter((n) => !found.some((g) => g.name === n));
      if (missing.length) throw badRequest('unknown_group', `No such group: ${missing.join(', ')}. Create it first.`);
    },
    /**
     * Replaces a user's memberships with the named groups, creating none: unknown names are an
     * error. `conn` lets the admin API do it in the transaction that updates the user.
     */
    async setUserGroups(userId: string, names: string[], conn: DbOrTransaction = db): Promise<void> {
      const unique = [...new Set(names)];
      await inTransaction(conn, async (trx) => {
        const found = unique.length ? await trx.selectFrom('groups').select(['id', 'name']).where('name', 'in', unique).execute() : [];
        const missing = unique.filter((n) => !found.some((g) => g.name === n));
        if (missing.length) throw badRequest('unknown_group', `No such group: ${missing.join(', ')}. Create it first.`);
        await trx.deleteFrom('user_groups').where('user_id', '=', userId).execute();
        if (found.length) await trx.insertInto('user_groups').values(found.map((g) => ({ user_id: userId, group_id: g.id }))).execute();
      });
    },
  };
}

export type GroupStore = ReturnType<typeof createGroupStore>;
