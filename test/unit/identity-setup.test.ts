import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { identityFixture } from '../helpers/identity-fixture.ts';

describe('first-run setup', () => {
  let fixture: Awaited<ReturnType<typeof identityFixture>>;
  before(async () => { fixture = await identityFixture(); });
  after(() => fixture.close());

  it('creates the first admin only through a valid setup link', async () => {
    const { identity } = fixture;
    await assert.rejects(identity.setup.complete('not-a-real-token', { username: 'mallory' }), { code: 'link_invalid' });
    assert.equal(await identity.users.count(), 0);
    const { token } = await identity.setup.issueLink();
    const admin = await identity.setup.complete(token, { username: 'alice', email: 'alice@example.com' });
    assert.equal(admin.isAdmin, true);
    assert.equal(await identity.setup.isComplete(), true);
  });

  it('closes for good: neither the used link nor a new one works afterwards', async () => {
    const { identity } = fixture;
    await assert.rejects(identity.setup.issueLink(), { code: 'setup_closed' });
    assert.equal(await identity.users.count(), 1);
  });
});

describe('setup when an admin is made another way', () => {
  it('closes as soon as an admin exists, even with a link issued before (latchkey user add --admin)', async () => {
    const fixture = await identityFixture();
    try {
      const { token } = await fixture.identity.setup.issueLink();
      await fixture.identity.users.create({ username: 'operator', isAdmin: true });
      assert.equal(await fixture.identity.setup.isComplete(), true);
      assert.equal(await fixture.identity.setup.linkIsValid(token), false);
      await assert.rejects(fixture.identity.setup.complete(token, { username: 'mallory' }), { code: 'setup_closed' });
      await assert.rejects(fixture.identity.setup.issueLink(), { code: 'setup_closed' });
      assert.equal(await fixture.identity.users.count(), 1);
    } finally {
      await fixture.close();
    }
  });

  it('stays open while only non-admin users exist', async () => {
    const fixture = await identityFixture();
    try {
      await fixture.identity.users.create({ username: 'alice' });
      assert.equal(await fixture.identity.setup.isComplete(), false);
    } finally {
      await fixture.close();
    }
  });
});

describe('setup under a race', () => {
  it('lets exactly one of two concurrent completions win', async () => {
    const fixture = await identityFixture();
    try {
      const { token } = await fixture.identity.setup.issueLink();
      const results = await Promise.allSettled([
        fixture.identity.setup.complete(token, { username: 'first' }),
        fixture.identity.setup.complete(token, { username: 'second' }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.equal(await fixture.identity.users.count(), 1);
    } finally {
      await fixture.close();
    }
  });

  it('keeps setup open when the admin details are invalid, and the link still works', async () => {
    const fixture = await identityFixture();
    try {
      const { token } = await fixture.identity.setup.issueLink();
      await assert.rejects(fixture.identity.setup.complete(token, { username: 'bad name with spaces' }), { code: 'invalid_user' });
      assert.equal(await fixture.identity.setup.isComplete(), false);
      const admin = await fixture.identity.setup.complete(token, { username: 'good' });
      assert.equal(admin.username, 'good');
    } finally {
      await fixture.close();
    }
  });

  it('replaces an older setup link when a new one is issued', async () => {
    const fixture = await identityFixture();
    try {
      const older = await fixture.identity.setup.issueLink();
      const newer = await fixture.identity.setup.issueLink();
      assert.equal(await fixture.identity.setup.linkIsValid(older.token), false);
      assert.equal(await fixture.identity.setup.linkIsValid(newer.token), true);
    } finally {
      await fixture.close();
    }
  });
});
