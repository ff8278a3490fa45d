import type { Clock } from '../core/clock.ts';
import { badRequest, conflict, notFound } from '../core/errors.ts';
import { randomId } from '../core/random.ts';
import type { Db, DbOrTransaction } from '../storage/database.ts';
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
      if (await this.findByName(input.name)) throw conflict('group_taken', `A group named "${input.name}" already exists.`);
      const row = { id: randomId(), name: input.name, friendly_name: input.friendlyName?.trim() || input.name, created_at: clock.nowMs() };
      await db.insertInto('groups').values(row).execute();
      return toGroup(row);
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
