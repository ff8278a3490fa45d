import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { idBrowser } from '../helpers/id-browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

describe('latchkey id: admin JSON API', () => {
  let id: IdServer;
  let apiKey: string;
  const api = (path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) =>
    fetch(`${id.origin}${path}`, { ...init, headers: { 'x-api-key': apiKey, 'content-type': 'application/json', ...init.headers } });
  const apiDelete = (path: string) => fetch(`${id.origin}${path}`, { method: 'DELETE', headers: { 'x-api-key': apiKey } });
  const tableCounts = async () => {
    const db = id.services.database.db;
    const count = async (table: 'users' | 'groups' | 'user_groups' | 'one_time_links') =>
      Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    return { users: await count('users'), groups: await count('groups'), memberships: await count('user_groups'), links: await count('one_time_links') };
  };

  before(async () => {
    id = await startIdServer();
    apiKey = (await id.services.identity.apiKeys.create({ name: 'test' })).key;
  });
  after(() => id.close());

  it('refuses callers without an API key or admin session', async () => {
    const response = await fetch(`${id.origin}/api/users`, { headers: { accept: 'application/json' } });
    assert.equal(response.status, 401);
    const body = (await response.json()) as { error: string; message: string; requestId: string };
    assert.equal(body.error, 'unauthorized');
    assert.ok(body.requestId);
  });

  it('refuses a wrong API key', async () => {
    const response = await fetch(`${id.origin}/api/users`, { headers: { 'x-api-key': 'lk_wrong' } });
    assert.equal(response.status, 401);
  });

  it("honours an admin's API key only while they are an active admin, as Pocket ID checks the key's owner", async () => {
    await id.services.identity.users.create({ username: 'keeper', isAdmin: true });
    const owner = await id.services.identity.users.create({ username: 'keyowner', isAdmin: true });
    const { key, apiKey: ownersKey } = await id.services.identity.apiKeys.create({ name: "keyowner's script", createdBy: owner.id });
    const status = async () => (await fetch(`${id.origin}/api/users`, { headers: { 'x-api-key': key } })).status;
    assert.equal(await status(), 200);
    const change = (body: object) => api(`/api/users/${owner.id}`, { method: 'PUT', body: JSON.stringify(body) });
    const listed = async () => (await id.services.identity.apiKeys.list()).find((k) => k.id === ownersKey.id);
    assert.deepEqual(await listed().then((k) => [k?.createdBy, k?.honoured]), ['keyowner', true]);
    assert.equal((await change({ isAdmin: false })).status, 200);
    assert.equal(await status(), 401, 'demoted');
    assert.equal((await listed())?.honoured, false, 'the console and the CLI list show the key as refused');
    assert.equal((await change({ isAdmin: true })).status, 200);
    assert.equal(await status(), 200, 'an admin again');
    assert.equal((await change({ disabled: true })).status, 200);
    assert.equal(await status(), 401, 'disabled');
    assert.equal((await change({ disabled: false })).status, 200);
    assert.equal((await apiDelete(`/api/users/${owner.id}`)).status, 204);
    assert.equal(await status(), 401, 'deleted');
    assert.ok(!(await id.services.identity.apiKeys.list()).some((k) => k.id === ownersKey.id), 'deleting the user deletes their keys');
    // this suite's own key was made as `latchkey api-key create` makes one: by nobody, and still good
    assert.equal((await api('/api/users')).status, 200);
  });

  it('creates a group and a user in it, then issues a one-time link for them', async () => {
    assert.equal((await api('/api/user-groups', { method: 'POST', body: JSON.stringify({ name: 'family' }) })).status, 201);
    const created = await api('/api/users', { method: 'POST', body: JSON.stringify({ username: 'dana', email: 'dana@example.com', groups: ['family'] }) });
    assert.equal(created.status, 201);
    const user = (await created.json()) as { id: string; groups: string[] };
    assert.deepEqual(user.groups, ['family']);
    const link = await api(`/api/users/${user.id}/one-time-link`, { method: 'POST', body: '{}' });
    assert.equal(link.status, 201);
    assert.match(((await link.json()) as { url: string }).url, new RegExp(`^${id.origin}/lc/[\\w-]{43}$`));
  });

  it('answers malformed JSON with a clear 400 and changes nothing', async () => {
    const before = await tableCounts();
    const response = await api('/api/users', { method: 'POST', body: '{"username": "eve",' });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: string; message: string };
    assert.equal(body.error, 'malformed_body');
    assert.deepEqual(await tableCounts(), before);
  });

  it('answers an unknown field with 400 naming it, and changes nothing', async () => {
    const before = await tableCounts();
    const response = await api('/api/users', { method: 'POST', body: JSON.stringify({ username: 'eve', isRoot: true }) });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { message: string }).message, /isRoot|additional/);
    assert.deepEqual(await tableCounts(), before);
  });

  it('refuses an unknown group without creating the user', async () => {
    const before = await tableCounts();
    const response = await api('/api/users', { method: 'POST', body: JSON.stringify({ username: 'frank', groups: ['nope'] }) });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'unknown_group');
    assert.deepEqual(await tableCounts(), before);
  });

  it('changes nothing, groups included, when an update is refused', async () => {
    assert.equal((await api('/api/user-groups', { method: 'POST', body: JSON.stringify({ name: 'site-admins' }) })).status, 201);
    await id.services.identity.users.create({ username: 'taken' });
    const created = await api('/api/users', { method: 'POST', body: JSON.stringify({ username: 'hank', email: 'hank@example.com' }) });
    const hank = (await created.json()) as { id: string };
    const refusals: [object, number, string][] = [
      [{ groups: ['site-admins'], email: 'not-an-email' }, 400, 'invalid_user'],
      [{ groups: ['site-admins'], username: 'TAKEN' }, 409, 'username_taken'],
      [{ groups: ['site-admins', 'nope'], firstName: 'Henry' }, 400, 'unknown_group'],
    ];
    for (const [body, status, error] of refusals) {
      const response = await api(`/api/users/${hank.id}`, { method: 'PUT', body: JSON.stringify(body) });
      assert.equal(response.status, status, JSON.stringify(body));
      assert.equal(((await response.json()) as { error: string }).error, error);
      const after = (await (await api(`/api/users/${hank.id}`)).json()) as { username: string; firstName: string; groups: string[] };
      assert.deepEqual([after.username, after.firstName, after.groups], ['hank', '', []], JSON.stringify(body));
    }
    const accepted = await api(`/api/users/${hank.id}`, { method: 'PUT', body: JSON.stringify({ groups: ['site-admins'], firstName: 'Henry' }) });
    assert.equal(accepted.status, 200);
    assert.deepEqual(((await accepted.json()) as { groups: string[] }).groups, ['site-admins']);
  });

  it('answers an oversized body with 413 and changes nothing', async () => {
    const before = await tableCounts();
    const response = await api('/api/users', { method: 'POST', body: JSON.stringify({ username: 'x', firstName: 'y'.repeat(100_000) }) });
    assert.equal(response.status, 413);
    assert.deepEqual(await tableCounts(), before);
  });

  it('answers an unknown user id with 404 JSON', async () => {
    const response = await api('/api/users/does-not-exist');
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: string }).error, 'not_found');
    const link = await api('/api/users/does-not-exist/one-time-link', { method: 'POST', body: '{}' });
    assert.equal(link.status, 404);
  });

  it('shows a browser an error page, not JSON, for an unknown address', async () => {
    const response = await fetch(`${id.origin}/no/such/page`, { headers: { accept: 'text/html' } });
    assert.equal(response.status, 404);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await response.text(), /There is nothing at this address/);
  });

  it("lists a user's passkeys and removes one, as Pocket ID's admin API does, signing them out everywhere", async () => {
    const gina = await id.services.identity.users.create({ username: 'gina' });
    const browsers = [];
    for (const name of ['Phone', 'Laptop']) {
      const browser = idBrowser(id.origin);
      const { token } = await id.services.identity.links.issue('signin', gina.id, 600);
      assert.equal((await browser.useOneTimeLink(token)).status, 303);
      assert.equal((await browser.registerPasskey(name)).response.status, 200);
      browsers.push(browser);
    }
    const listed = await api(`/api/users/${gina.id}/webauthn-credentials`);
    assert.equal(listed.status, 200);
    const credentials = (await listed.json()) as { id: string; credentialID: string; name: string; createdAt: string; lastUsedAt: string | null }[];
    assert.deepEqual(credentials.map((c) => c.name).sort(), ['Laptop', 'Phone']);
    assert.ok(credentials.every((c) => c.credentialID === c.id && !Number.isNaN(Date.parse(c.createdAt))));
    const phone = credentials.find((c) => c.name === 'Phone')!;

    // as many API clients send it: Content-Type: application/json, and no body
    const removed = await api(`/api/users/${gina.id}/webauthn-credentials/${phone.id}`, { method: 'DELETE' });
    assert.equal(removed.status, 204);
    assert.deepEqual((await id.services.webauthn.listPasskeys(gina.id)).map((p) => p.name), ['Laptop']);
    assert.equal((await browsers[1].page('/account')).response.status, 302, 'signed out everywhere');
    const again = await apiDelete(`/api/users/${gina.id}/webauthn-credentials/${phone.id}`);
    assert.equal(again.status, 404);
    assert.equal(((await again.json()) as { error: string }).error, 'webauthn_passkey_not_found');
    const withoutKey = await fetch(`${id.origin}/api/users/${gina.id}/webauthn-credentials/${credentials[0].id}`, { method: 'DELETE', headers: { accept: 'application/json' } });
    assert.equal(withoutKey.status, 401);
    assert.equal(await id.services.webauthn.countPasskeys(gina.id), 1, 'refused calls change nothing');
  });

  it("refuses to remove the last passkey of the only admin who has one, with 409, and another user's passkey with 404", async () => {
    const boss = await id.services.identity.users.create({ username: 'boss', isAdmin: true });
    const browser = idBrowser(id.origin);
    const { token } = await id.services.identity.links.issue('signin', boss.id, 600);
    assert.equal((await browser.useOneTimeLink(token)).status, 303);
    assert.equal((await browser.registerPasskey('Key')).response.status, 200);
    const [key] = await id.services.webauthn.listPasskeys(boss.id);
    const last = await apiDelete(`/api/users/${boss.id}/webauthn-credentials/${key.id}`);
    assert.equal(last.status, 409);
    assert.equal(((await last.json()) as { error: string }).error, 'last_admin_passkey');
    const other = await id.services.identity.users.create({ username: 'other' });
    assert.equal((await apiDelete(`/api/users/${other.id}/webauthn-credentials/${key.id}`)).status, 404);
    assert.equal(await id.services.webauthn.countPasskeys(boss.id), 1);
  });

  it('records admin actions in the audit log', async () => {
    const response = await api('/api/audit-log?event=user_created');
    const { entries } = (await response.json()) as { entries: { event: string }[] };
    assert.ok(entries.some((e) => e.event === 'user_created'));
  });
});
