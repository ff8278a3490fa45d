// List queries and bodies as Pocket ID 2.x reads them (backend/internal/utils/list_request_util.go:
// Paginate, NormalizeSortDirection; model/user.go's sortable columns; dto/user_group_dto.go), sent to
// latchkey id. Where Pocket ID's reading is harmless, latchkey reads them the same way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestPostgres } from '../helpers/backends.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

type Json = Record<string, unknown>;

function listQueries(backend: string, database: () => Promise<{ env: Record<string, string>; drop(): Promise<void> }>) {
  describe(`latchkey id on ${backend}: Pocket ID's list queries and group bodies`, () => {
    let id: IdServer;
    let drop: () => Promise<void>;
    let apiKey: string;
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${id.origin}${path}`, {
        method, headers: { 'x-api-key': apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Json };
    };
    const list = async (path: string) => {
      const { status, body } = await call('GET', path);
      assert.equal(status, 200, `${path}: ${JSON.stringify(body)}`);
      return { pagination: body.pagination as Json, data: body.data as Json[] };
    };
    const usernames = async (path: string) => (await list(path)).data.map((u) => u.username);

    before(async () => {
      const db = await database();
      drop = db.drop;
      id = await startIdServer(db.env);
      apiKey = (await id.services.identity.apiKeys.create({ name: 'pocket-id script' })).key;
      const { users, groups } = id.services.identity;
      // Display names: "Zoe Adams", "Bob Young", and "mia" (no names: her username).
      await users.create({ username: 'zoe', firstName: 'Zoe', lastName: 'Adams' });
      await users.create({ username: 'bob', firstName: 'Bob', lastName: 'Young' });
      await users.create({ username: 'mia' });
      for (const name of ['alpha', 'beta', 'gamma']) await groups.create({ name });
    });
    after(async () => {
      await id?.close();
      await drop?.();
    });

    it('reads pagination[page] below 1 as the first page', async () => {
      for (const page of ['0', '-3']) {
        const { pagination, data } = await list(`/api/users?pagination[page]=${page}&pagination[limit]=2&sort[column]=username`);
        assert.equal(pagination.currentPage, 1, page);
        assert.deepEqual(data.map((u) => u.username), ['bob', 'mia'], page);
      }
    });

    it('reads pagination[limit] below 1 as the default of 20, and caps it at 100', async () => {
      for (const limit of ['0', '-1']) assert.equal((await list(`/api/user-groups?pagination[limit]=${limit}`)).pagination.itemsPerPage, 20, limit);
      assert.equal((await list('/api/users?pagination[limit]=500')).pagination.itemsPerPage, 100);
    });

    it('reads sort[direction] in any case, and anything but desc as asc', async () => {
      assert.deepEqual(await usernames('/api/users?sort[column]=username&sort[direction]=DESC'), ['zoe', 'mia', 'bob']);
      assert.deepEqual(await usernames('/api/users?sort[column]=username&sort[direction]=sideways'), ['bob', 'mia', 'zoe']);
      const groupNames = (await list('/api/user-groups?sort[column]=name&sort[direction]=Desc')).data.map((g) => g.name);
      assert.deepEqual(groupNames, ['gamma', 'beta', 'alpha']);
    });

    it('sorts users by displayName, the name shown (the username when they have none)', async () => {
      assert.deepEqual(await usernames('/api/users?sort[column]=displayName'), ['bob', 'mia', 'zoe']);
      assert.deepEqual(await usernames('/api/users?sort[column]=displayName&sort[direction]=desc'), ['zoe', 'mia', 'bob']);
    });

    it('still refuses what it cannot honour: filters, an unknown sort column, a page that is not a number', async () => {
      for (const query of ['filters[disabled]=true', 'sort[column]=locale', 'pagination[page]=two']) {
        const { status } = await call('GET', `/api/users?${query}`);
        assert.equal(status, 400, query);
      }
    });

    it('creates a group from a body with ldapAttributes: [], and takes a fetched group back unchanged', async () => {
      const created = await call('POST', '/api/user-groups', { name: 'readers', friendlyName: 'Readers', ldapAttributes: [] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const fetched = (await call('GET', `/api/user-groups/${created.body.id}`)).body;
      const put = await call('PUT', `/api/user-groups/${created.body.id}`, { ...fetched, ldapAttributes: [], friendlyName: 'Book readers' });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.friendlyName, 'Book readers');
    });
  });
}

listQueries('SQLite', async () => ({ env: {}, drop: async () => {} }));

listQueries('PostgreSQL', async () => {
  const postgres = await createTestPostgres();
  return { env: { DB_CONNECTION_STRING: postgres.url }, drop: postgres.drop };
});
