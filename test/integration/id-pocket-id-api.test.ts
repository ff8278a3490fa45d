// A script written for Pocket ID 2.x's admin API, run against latchkey id. The request bodies and
// the shapes asserted come from Pocket ID's DTOs (backend/internal/dto/{user,user_group,oidc}_dto.go,
// pagination_dto.go), not from latchkey's code.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sha256Base64url } from '../../src/core/crypto.ts';
import { idBrowser } from '../helpers/id-browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

type Json = Record<string, unknown>;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** The keys of Pocket ID's DTOs; latchkey may add its own, never leave one out. */
const USER_DTO = ['id', 'username', 'email', 'emailVerified', 'firstName', 'lastName', 'displayName', 'isAdmin', 'locale', 'customClaims', 'userGroups', 'ldapId', 'disabled'];
const GROUP_MINIMAL_DTO = ['id', 'friendlyName', 'name', 'customClaims', 'userCount', 'ldapId', 'createdAt'];
const GROUP_DTO = ['id', 'friendlyName', 'name', 'customClaims', 'ldapId', 'createdAt', 'users', 'allowedOidcClients'];
const CLIENT_DTO = ['id', 'name', 'description', 'hasLogo', 'hasDarkLogo', 'launchURL', 'requiresReauthentication', 'callbackURLs', 'logoutCallbackURLs',
  'isPublic', 'pkceEnabled', 'requiresPushedAuthorizationRequests', 'skipConsent', 'credentials', 'isGroupRestricted', 'accessTokenDurationMinutes', 'refreshTokenDurationMinutes'];
const PAGINATION = ['totalPages', 'totalItems', 'currentPage', 'itemsPerPage'];

function assertShape(value: unknown, keys: string[], label: string): asserts value is Json {
  assert.ok(value && typeof value === 'object', `${label}: not an object`);
  const missing = keys.filter((k) => !(k in (value as Json)));
  assert.deepEqual(missing, [], `${label} lacks Pocket ID's ${missing.join(', ')}`);
}

describe("latchkey id: Pocket ID's admin API", () => {
  let id: IdServer;
  let apiKey: string;
  const call = async (method: string, path: string, body?: unknown, key = apiKey) => {
    const response = await fetch(`${id.origin}${path}`, {
      method, headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Json };
  };
  const counts = async () => {
    const db = id.services.database.db;
    const count = async (table: 'users' | 'groups' | 'user_groups' | 'oidc_clients' | 'client_groups' | 'one_time_links') =>
      Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    return Object.fromEntries(await Promise.all((['users', 'groups', 'user_groups', 'oidc_clients', 'client_groups', 'one_time_links'] as const).map(async (t) => [t, await count(t)])));
  };
  const storedSecretHash = async (clientId: string) =>
    (await id.services.database.db.selectFrom('oidc_clients').select('secret_hash').where('id', '=', clientId).executeTakeFirstOrThrow()).secret_hash;

  before(async () => {
    id = await startIdServer();
    apiKey = (await id.services.identity.apiKeys.create({ name: 'pocket-id script' })).key;
  });
  after(() => id.close());

  describe('a provisioning script, step by step', () => {
    const state: { groupId?: string; userId?: string; clientId?: string; secret?: string } = {};

    it('creates a group and answers with a UserGroupDto', async () => {
      const { status, body } = await call('POST', '/api/user-groups', { friendlyName: 'Friends', name: 'friends' });
      assert.equal(status, 201);
      assertShape(body, GROUP_DTO, 'UserGroupDto');
      assert.equal(body.name, 'friends');
      assert.equal(body.friendlyName, 'Friends');
      assert.match(body.createdAt as string, ISO);
      assert.deepEqual([body.users, body.allowedOidcClients, body.customClaims, body.ldapId], [[], [], [], null]);
      state.groupId = body.id as string;
    });

    it('creates a user from a UserCreateDto and answers with a UserDto', async () => {
      const { status, body } = await call('POST', '/api/users', {
        username: 'bob', email: 'bob@example.com', emailVerified: true, firstName: 'Bob', lastName: 'Builder',
        displayName: 'Bob Builder', isAdmin: false, locale: null, disabled: false, userGroupIds: [],
      });
      assert.equal(status, 201, JSON.stringify(body));
      assertShape(body, USER_DTO, 'UserDto');
      assert.deepEqual([body.username, body.email, body.displayName, body.isAdmin, body.disabled, body.userGroups], ['bob', 'bob@example.com', 'Bob Builder', false, false, []]);
      state.userId = body.id as string;
    });

    it('puts the user in the group with PUT /api/users/:id/user-groups', async () => {
      const { status, body } = await call('PUT', `/api/users/${state.userId}/user-groups`, { userGroupIds: [state.groupId] });
      assert.equal(status, 200);
      assertShape(body, USER_DTO, 'UserDto');
      const [group] = body.userGroups as Json[];
      assertShape(group, GROUP_MINIMAL_DTO, 'UserGroupMinimalDto');
      assert.deepEqual([group.id, group.name, group.userCount], [state.groupId, 'friends', 1]);
      assert.deepEqual(await id.services.identity.groups.namesForUser(state.userId!), ['friends']);
    });

    it('creates a client with callbackURLs, restricted to groups, and shows its secret once', async () => {
      const { status, body } = await call('POST', '/api/oidc/clients', {
        name: 'Grafana', description: '', callbackURLs: ['https://grafana.example.com/login/generic_oauth'], logoutCallbackURLs: [],
        isPublic: false, pkceEnabled: true, requiresReauthentication: false, credentials: { federatedIdentities: [] },
        launchURL: null, hasLogo: false, hasDarkLogo: false, isGroupRestricted: true,
      });
      assert.equal(status, 201, JSON.stringify(body));
      assertShape(body, [...CLIENT_DTO, 'allowedUserGroups'], 'OidcClientWithAllowedUserGroupsDto');
      assert.deepEqual(body.callbackURLs, ['https://grafana.example.com/login/generic_oauth']);
      assert.deepEqual([body.isPublic, body.pkceEnabled, body.isGroupRestricted, body.allowedUserGroups], [false, true, true, []]);
      assert.equal(typeof body.secret, 'string');
      state.clientId = body.id as string;
      state.secret = body.secret as string;
    });

    it('restricts the client to the group with PUT /api/oidc/clients/:id/allowed-user-groups', async () => {
      const { status, body } = await call('PUT', `/api/oidc/clients/${state.clientId}/allowed-user-groups`, { userGroupIds: [state.groupId] });
      assert.equal(status, 200);
      assertShape(body, CLIENT_DTO, 'OidcClientDto');
      assert.deepEqual((body.allowedUserGroups as Json[]).map((g) => g.id), [state.groupId]);
      assert.deepEqual((await id.services.clients.get(state.clientId!)).allowedGroups, ['friends']);
      const group = await call('GET', `/api/user-groups/${state.groupId}`);
      assertShape(group.body, GROUP_DTO, 'UserGroupDto');
      assert.deepEqual((group.body.users as Json[]).map((u) => u.username), ['bob']);
      assert.deepEqual((group.body.allowedOidcClients as Json[]).map((c) => c.id), [state.clientId]);
    });

    it('lists clients a page at a time in { data, pagination }', async () => {
      for (const name of ['Immich', 'Audiobookshelf'])
        assert.equal((await call('POST', '/api/oidc/clients', { name, callbackURLs: [`https://${name.toLowerCase()}.example.com/cb`] })).status, 201);
      const first = await call('GET', '/api/oidc/clients?pagination[page]=1&pagination[limit]=2&sort[column]=name&sort[direction]=asc');
      assert.equal(first.status, 200);
      assertShape(first.body.pagination, PAGINATION, 'Pagination');
      assert.deepEqual(first.body.pagination, { totalPages: 2, totalItems: 3, currentPage: 1, itemsPerPage: 2 });
      assert.deepEqual((first.body.data as Json[]).map((c) => c.name), ['Audiobookshelf', 'Grafana']);
      for (const row of first.body.data as Json[]) assertShape(row, [...CLIENT_DTO, 'allowedUserGroupsCount'], 'OidcClientWithAllowedGroupsCountDto');
      assert.equal((first.body.data as Json[])[1].allowedUserGroupsCount, 1);
      const second = await call('GET', '/api/oidc/clients?pagination[page]=2&pagination[limit]=2&sort[column]=name');
      assert.deepEqual((second.body.data as Json[]).map((c) => c.name), ['Immich']);
      const searched = await call('GET', '/api/oidc/clients?search=graf');
      assert.deepEqual([(searched.body.data as Json[]).map((c) => c.name), (searched.body.pagination as Json).itemsPerPage], [['Grafana'], 20]);
    });

    it('lists users and groups the same way, and shows the last page for a page past the end', async () => {
      await call('POST', '/api/users', { username: 'carol', firstName: 'Carol' });
      const users = await call('GET', '/api/users?pagination[limit]=1&pagination[page]=1&sort[column]=username&sort[direction]=desc');
      assert.equal(users.status, 200);
      assert.deepEqual(users.body.pagination, { totalPages: 2, totalItems: 2, currentPage: 1, itemsPerPage: 1 });
      assertShape((users.body.data as Json[])[0], USER_DTO, 'UserDto');
      assert.equal((users.body.data as Json[])[0].username, 'carol');
      const pastTheEnd = await call('GET', '/api/users?pagination[limit]=1&pagination[page]=9&sort[column]=username');
      assert.deepEqual([(pastTheEnd.body.pagination as Json).currentPage, (pastTheEnd.body.data as Json[])[0].username], [2, 'carol']);
      const searched = await call('GET', '/api/users?search=builder');
      assert.deepEqual((searched.body.data as Json[]).map((u) => u.username), ['bob']);
      const groups = await call('GET', '/api/user-groups');
      assert.deepEqual(groups.body.pagination, { totalPages: 1, totalItems: 1, currentPage: 1, itemsPerPage: 20 });
      assertShape((groups.body.data as Json[])[0], GROUP_MINIMAL_DTO, 'UserGroupMinimalDto');
      assert.equal((groups.body.data as Json[])[0].userCount, 1);
    });

    it('gets a one-time access token that signs the user in at /lc/<token>', async () => {
      const { status, body } = await call('POST', `/api/users/${state.userId}/one-time-access-token`, { ttl: '1h' });
      assert.equal(status, 201);
      assert.equal(typeof body.token, 'string');
      const lifetimeMs = Date.parse(body.expiresAt as string) - Date.now();
      assert.ok(lifetimeMs > 59 * 60_000 && lifetimeMs <= 3600_000, `expires in ${lifetimeMs} ms`);
      assert.equal((await idBrowser(id.origin).useOneTimeLink(body.token as string)).status, 303);
      const byDefault = await call('POST', `/api/users/${state.userId}/one-time-access-token`, {});
      const defaultMs = Date.parse(byDefault.body.expiresAt as string) - Date.now();
      assert.ok(defaultMs > 14 * 60_000 && defaultMs <= 15 * 60_000, "Pocket ID's default of 15 minutes");
    });

    it('regenerates the client secret with POST /api/oidc/clients/:id/secret; the old one stops working', async () => {
      const { status, body } = await call('POST', `/api/oidc/clients/${state.clientId}/secret`);
      assert.equal(status, 200);
      assert.equal(typeof body.secret, 'string');
      assert.notEqual(body.secret, state.secret);
      assert.equal(await storedSecretHash(state.clientId!), sha256Base64url(body.secret as string));
    });

    it('takes back a fetched client or user unchanged with PUT (read-only fields included)', async () => {
      const client = await call('GET', `/api/oidc/clients/${state.clientId}`);
      const putClient = await call('PUT', `/api/oidc/clients/${state.clientId}`, client.body);
      assert.equal(putClient.status, 200, JSON.stringify(putClient.body));
      assert.deepEqual(putClient.body.allowedUserGroups, client.body.allowedUserGroups);
      const user = await call('GET', `/api/users/${state.userId}`);
      const putUser = await call('PUT', `/api/users/${state.userId}`, user.body);
      assert.equal(putUser.status, 200, JSON.stringify(putUser.body));
      assert.deepEqual(putUser.body.userGroups, user.body.userGroups);
    });

    it('records each change in the audit log', async () => {
      const { body } = await call('GET', '/api/audit-log?limit=100');
      const events = new Set((body.entries as Json[]).map((e) => e.event));
      for (const event of ['group_created', 'user_created', 'user_updated', 'client_created', 'client_updated', 'one_time_link_created', 'client_secret_regenerated'])
        assert.ok(events.has(event), `${event} not recorded`);
    });
  });

  describe('where latchkey differs, it says so and changes nothing', () => {
    it('refuses a client without callback URLs: latchkey does not learn them from the first sign-in', async () => {
      const before = await counts();
      const { status, body } = await call('POST', '/api/oidc/clients', { name: 'Paperless', callbackURLs: [] });
      assert.equal(status, 400);
      assert.deepEqual([body.error, Object.keys(body.fields as Json)], ['invalid_redirect_uri', ['callbackURLs']]);
      assert.deepEqual(await counts(), before);
    });

    it('refuses a wildcard callback URL, naming the field the script sent', async () => {
      const { status, body } = await call('POST', '/api/oidc/clients', { name: 'Paperless', callbackURLs: ['https://*.example.com/cb'] });
      assert.equal(status, 400);
      assert.match(body.message as string, /^callbackURLs: .*no wildcards/);
    });

    it('refuses every field it cannot honour at once (logo, launch URL, description, token lifetime)', async () => {
      const before = await counts();
      const { status, body } = await call('POST', '/api/oidc/clients', {
        name: 'Jellyfin', callbackURLs: ['https://jellyfin.example.com/cb'], description: 'Films', launchURL: 'https://jellyfin.example.com',
        logoUrl: 'https://example.com/logo.png', accessTokenDurationMinutes: 5,
      });
      assert.equal(status, 400);
      assert.equal(body.error, 'unsupported_field');
      assert.deepEqual(Object.keys(body.fields as Json).sort(), ['accessTokenDurationMinutes', 'description', 'launchURL', 'logoUrl']);
      assert.deepEqual(await counts(), before);
    });

    it("keeps latchkey's safer default: a new client admits nobody unless isGroupRestricted is false", async () => {
      const implicit = await call('POST', '/api/oidc/clients', { name: 'Default', callbackURLs: ['https://default.example.com/cb'] });
      assert.equal(implicit.body.isGroupRestricted, true);
      assert.equal((await id.services.clients.get(implicit.body.id as string)).unrestricted, false);
      const open = await call('POST', '/api/oidc/clients', { name: 'Open', callbackURLs: ['https://open.example.com/cb'], isGroupRestricted: false });
      assert.equal(open.body.isGroupRestricted, false);
      assert.equal((await id.services.clients.get(open.body.id as string)).unrestricted, true);
    });

    it('answers the multi-secret endpoints of Pocket ID 2.14 with a clear 400 and keeps the secret', async () => {
      const created = await call('POST', '/api/oidc/clients', { name: 'Vault', callbackURLs: ['https://vault.example.com/cb'] });
      const hash = await storedSecretHash(created.body.id as string);
      for (const [method, path] of [['POST', 'secrets'], ['GET', 'secrets'], ['DELETE', 'secrets/some-id']]) {
        const { status, body } = await call(method, `/api/oidc/clients/${created.body.id}/${path}`);
        assert.equal(status, 400, `${method} ${path}`);
        assert.equal(body.error, 'one_secret_per_client');
      }
      assert.equal(await storedSecretHash(created.body.id as string), hash);
    });

    it('refuses a display name other than the first and last name, and a locale', async () => {
      const before = await counts();
      const { status, body } = await call('POST', '/api/users', { username: 'dave', firstName: 'Dave', displayName: 'DJ Dave', locale: 'de' });
      assert.equal(status, 400);
      assert.deepEqual(Object.keys(body.fields as Json).sort(), ['displayName', 'locale']);
      assert.deepEqual(await counts(), before);
    });

    it('refuses a list filter or sort it does not support rather than answering an unfiltered list', async () => {
      const filtered = await call('GET', '/api/users?filters[isAdmin]=true');
      assert.equal(filtered.status, 400);
      assert.match(filtered.body.message as string, /"filters\[isAdmin\]"/);
      const sorted = await call('GET', '/api/oidc/clients?sort[column]=lastUsedAt');
      assert.equal(sorted.status, 400);
      assert.equal(sorted.body.error, 'invalid_sort');
    });
  });

  describe('group names', () => {
    // The name is what --protect rules and allowed_groups lists match; they live in files latchkey cannot change.
    it('refuses to rename a group, and changes its friendly name', async () => {
      const group = (await call('POST', '/api/user-groups', { name: 'cousins', friendlyName: 'Cousins' })).body;
      const renamed = await call('PUT', `/api/user-groups/${group.id}`, { name: 'relatives', friendlyName: 'Relatives' });
      assert.equal(renamed.status, 400);
      assert.equal(renamed.body.error, 'group_name_fixed');
      assert.equal((await id.services.identity.groups.get(group.id as string)).name, 'cousins', 'nothing changed');
      const friendly = await call('PUT', `/api/user-groups/${group.id}`, { name: 'cousins', friendlyName: 'The cousins' });
      assert.equal(friendly.status, 200);
      assert.deepEqual([friendly.body.name, friendly.body.friendlyName], ['cousins', 'The cousins']);
    });
  });

  describe('bad input and unknown ids', () => {
    it('refuses unknown group ids for a user and leaves their groups as they were', async () => {
      const user = (await call('POST', '/api/users', { username: 'erin' })).body;
      const group = (await call('POST', '/api/user-groups', { name: 'family', friendlyName: 'Family' })).body;
      assert.equal((await call('PUT', `/api/users/${user.id}/user-groups`, { userGroupIds: [group.id] })).status, 200);
      const { status, body } = await call('PUT', `/api/users/${user.id}/user-groups`, { userGroupIds: [group.id, 'no-such-group'] });
      assert.equal(status, 400);
      assert.equal(body.error, 'unknown_group');
      assert.match(body.message as string, /no-such-group/);
      assert.deepEqual(await id.services.identity.groups.namesForUser(user.id as string), ['family']);
      assert.equal((await call('PUT', `/api/users/${user.id}/user-groups`, {})).status, 400, 'userGroupIds is required');
    });

    it('answers 404 for an unknown user, client or group, and changes nothing', async () => {
      const before = await counts();
      const group = ((await call('GET', '/api/user-groups')).body.data as Json[])[0];
      for (const [method, path, body] of [
        ['PUT', '/api/users/nobody/user-groups', { userGroupIds: [] }],
        ['POST', '/api/users/nobody/one-time-access-token', {}],
        ['PUT', '/api/oidc/clients/nothing/allowed-user-groups', { userGroupIds: [group.id] }],
        ['POST', '/api/oidc/clients/nothing/secret', undefined],
        ['GET', '/api/user-groups/nothing', undefined],
        ['PUT', '/api/user-groups/nothing/users', { userIds: [] }],
      ] as const) {
        const response = await call(method, path, body);
        assert.equal(response.status, 404, `${method} ${path}`);
        assert.equal(response.body.error, 'not_found', `${method} ${path}`);
      }
      assert.deepEqual(await counts(), before);
    });

    it('refuses a one-time token lifetime it cannot parse or that exceeds 7 days', async () => {
      const before = await counts();
      const user = ((await call('GET', '/api/users?search=bob')).body.data as Json[])[0];
      for (const ttl of ['soon', '744h', 30]) {
        const { status, body } = await call('POST', `/api/users/${user.id}/one-time-access-token`, { ttl });
        assert.equal(status, 400, String(ttl));
        assert.equal(body.error, 'invalid_ttl');
      }
      assert.deepEqual(await counts(), before);
    });

    it("sets a group's members with PUT /api/user-groups/:id/users, refusing unknown user ids", async () => {
      const group = (await call('POST', '/api/user-groups', { name: 'readers', friendlyName: 'Readers' })).body;
      const users = (await call('GET', '/api/users?pagination[limit]=100')).body.data as Json[];
      const refused = await call('PUT', `/api/user-groups/${group.id}/users`, { userIds: [users[0].id, 'ghost'] });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'unknown_user');
      assert.deepEqual((await call('GET', `/api/user-groups/${group.id}`)).body.users, []);
      const set = await call('PUT', `/api/user-groups/${group.id}/users`, { userIds: users.map((u) => u.id) });
      assert.equal(set.status, 200);
      assert.equal((set.body.users as Json[]).length, users.length);
    });

    it("sets a group's clients with PUT /api/user-groups/:id/allowed-oidc-clients", async () => {
      const group = (await call('POST', '/api/user-groups', { name: 'watchers', friendlyName: 'Watchers' })).body;
      const client = (await call('POST', '/api/oidc/clients', { name: 'Plex', callbackURLs: ['https://plex.example.com/cb'] })).body;
      const refused = await call('PUT', `/api/user-groups/${group.id}/allowed-oidc-clients`, { oidcClientIds: [client.id, 'no-such-client'] });
      assert.deepEqual([refused.status, refused.body.error], [400, 'unknown_client']);
      assert.deepEqual((await id.services.clients.get(client.id as string)).allowedGroups, []);
      const set = await call('PUT', `/api/user-groups/${group.id}/allowed-oidc-clients`, { oidcClientIds: [client.id] });
      assert.equal(set.status, 200);
      assert.deepEqual((set.body.allowedOidcClients as Json[]).map((c) => c.id), [client.id]);
      assert.deepEqual((await id.services.clients.get(client.id as string)).allowedGroups, ['watchers']);
    });

    it('refuses a key whose admin is no longer an admin, on every new endpoint, changing nothing', async () => {
      await id.services.identity.users.create({ username: 'keeper', isAdmin: true });
      const former = await id.services.identity.users.create({ username: 'former-admin', isAdmin: true });
      const { key } = await id.services.identity.apiKeys.create({ name: 'old script', createdBy: former.id });
      await id.services.identity.users.update(former.id, { isAdmin: false });
      const before = await counts();
      const group = ((await call('GET', '/api/user-groups')).body.data as Json[])[0];
      for (const [method, path, body] of [
        ['GET', '/api/user-groups', undefined],
        ['POST', '/api/user-groups', { name: 'sneaky', friendlyName: 'Sneaky' }],
        ['PUT', `/api/users/${former.id}/user-groups`, { userGroupIds: [group.id] }],
        ['POST', `/api/users/${former.id}/one-time-access-token`, {}],
        ['POST', '/api/oidc/clients', { name: 'Sneaky', callbackURLs: ['https://sneaky.example.com/cb'] }],
        ['PUT', `/api/user-groups/${group.id}/users`, { userIds: [former.id] }],
      ] as const) {
        const response = await call(method, path, body, key);
        assert.equal(response.status, 401, `${method} ${path}`);
      }
      assert.deepEqual(await counts(), before);
    });
  });
});
