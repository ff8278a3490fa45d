import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { identityFixture } from '../helpers/identity-fixture.ts';

describe('users', () => {
  let fixture: Awaited<ReturnType<typeof identityFixture>>;
  before(async () => { fixture = await identityFixture(); });
  after(() => fixture.close());

  it('refuses a second user with the same username in another case', async () => {
    await fixture.identity.users.create({ username: 'Erin', email: 'erin@example.com' });
    await assert.rejects(fixture.identity.users.create({ username: 'erin' }), { code: 'username_taken' });
  });

  it('stores emails in lower case and refuses a duplicate', async () => {
    const frank = await fixture.identity.users.create({ username: 'frank', email: 'Frank@Example.COM' });
    assert.equal(frank.email, 'frank@example.com');
    await assert.rejects(fixture.identity.users.create({ username: 'frank2', email: 'FRANK@example.com' }), { code: 'email_taken' });
  });

  it('reports every invalid field at once', async () => {
    await assert.rejects(fixture.identity.users.create({ username: '-bad', email: 'not-an-email', firstName: 'x'.repeat(101) }), (error: { code: string; details: { fields: Record<string, string> } }) => {
      assert.equal(error.code, 'invalid_user');
      assert.deepEqual(Object.keys(error.details.fields).sort(), ['email', 'firstName', 'username']);
      return true;
    });
  });

  it('never removes, disables or demotes the last active admin', async () => {
    const admin = await fixture.identity.users.create({ username: 'root-admin', isAdmin: true });
    await assert.rejects(fixture.identity.users.update(admin.id, { isAdmin: false }), { code: 'last_admin' });
    await assert.rejects(fixture.identity.users.update(admin.id, { disabled: true }), { code: 'last_admin' });
    await assert.rejects(fixture.identity.users.remove(admin.id), { code: 'last_admin' });
    const second = await fixture.identity.users.create({ username: 'second-admin', isAdmin: true });
    await fixture.identity.users.update(admin.id, { isAdmin: false });
    assert.equal((await fixture.identity.users.require(second.id)).isAdmin, true);
  });

  it('finds a user by username or email, case-insensitively', async () => {
    assert.equal((await fixture.identity.users.findByLogin('ERIN'))?.username, 'Erin');
    assert.equal((await fixture.identity.users.findByLogin('erin@EXAMPLE.com'))?.username, 'Erin');
  });

  it('treats LIKE wildcards in a search as plain text', async () => {
    assert.deepEqual((await fixture.identity.users.list({ search: 'rin' })).map((u) => u.username), ['Erin']);
    assert.equal((await fixture.identity.users.list({ search: '%' })).length, 0);
    assert.equal((await fixture.identity.users.list({ search: 'e_in' })).length, 0);
  });

  it('refuses unknown group names without changing memberships', async () => {
    const user = await fixture.identity.users.create({ username: 'grace' });
    await fixture.identity.groups.create({ name: 'family' });
    await fixture.identity.groups.setUserGroups(user.id, ['family']);
    await assert.rejects(fixture.identity.groups.setUserGroups(user.id, ['family', 'nope']), { code: 'unknown_group' });
    assert.deepEqual(await fixture.identity.groups.namesForUser(user.id), ['family']);
  });
});
