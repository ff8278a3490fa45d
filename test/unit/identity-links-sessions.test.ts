import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { identityFixture } from '../helpers/identity-fixture.ts';

describe('one-time sign-in links', () => {
  let fixture: Awaited<ReturnType<typeof identityFixture>>;
  let userId: string;
  before(async () => {
    fixture = await identityFixture();
    userId = (await fixture.identity.users.create({ username: 'bob' })).id;
  });
  after(() => fixture.close());

  it('works exactly once', async () => {
    const { token } = await fixture.identity.links.issue('signin', userId, 600);
    assert.deepEqual(await fixture.identity.links.consume(token, 'signin'), { userId });
    await assert.rejects(fixture.identity.links.consume(token, 'signin'), { code: 'link_invalid' });
  });

  it('stops working when it expires', async () => {
    const { token } = await fixture.identity.links.issue('signin', userId, 600);
    fixture.clock.advanceMs(601_000);
    assert.equal(await fixture.identity.links.peek(token, 'signin'), null);
    await assert.rejects(fixture.identity.links.consume(token, 'signin'), { code: 'link_invalid' });
  });

  it('cannot be used for another purpose', async () => {
    const { token } = await fixture.identity.links.issue('signin', userId, 600);
    await assert.rejects(fixture.identity.links.consume(token, 'setup'), { code: 'link_invalid' });
  });

  it('stores only a hash of the token', async () => {
    const { token } = await fixture.identity.links.issue('signin', userId, 600);
    const rows = await fixture.db.selectFrom('one_time_links').select('token_hash').execute();
    assert.ok(rows.every((r) => r.token_hash !== token));
  });

  it('has 256 bits of randomness', async () => {
    const { token } = await fixture.identity.links.issue('signin', userId, 600);
    assert.equal(Buffer.from(token, 'base64url').length, 32);
  });
});

describe('web sessions', () => {
  it('resolve while live, and not after expiry, sign-out or the user being disabled', async () => {
    const fixture = await identityFixture();
    try {
      const { identity, clock } = fixture;
      const admin = await identity.users.create({ username: 'admin', isAdmin: true });
      const user = await identity.users.create({ username: 'carol' });
      const first = await identity.sessions.create(user.id, {});
      assert.equal((await identity.sessions.resolve(first.token))?.userId, user.id);
      await identity.sessions.destroy(first.token);
      assert.equal(await identity.sessions.resolve(first.token), null);

      const second = await identity.sessions.create(user.id, {});
      await identity.users.update(user.id, { disabled: true });
      assert.equal(await identity.sessions.resolve(second.token), null);

      const third = await identity.sessions.create(admin.id, {});
      clock.advanceMs(3601_000);
      assert.equal(await identity.sessions.resolve(third.token), null);
    } finally {
      await fixture.close();
    }
  });

  it('end once older than a shortened duration, and a lengthened one neither brings them back nor extends them', async () => {
    const fixture = await identityFixture();
    try {
      const { identity, clock } = fixture;
      const user = await identity.users.create({ username: 'erin' });
      const minutes = (n: number) => n * 60_000;
      const older = await identity.sessions.create(user.id, {});
      clock.advanceMs(minutes(40));
      const newer = await identity.sessions.create(user.id, {});

      // After an incident an admin shortens the duration from 1 h to 30 min.
      await identity.settings.update({ sessionDuration: '30m' });
      assert.equal(await identity.sessions.resolve(older.token), null, 'begun 40 min ago');
      const live = await identity.sessions.resolve(newer.token);
      assert.equal(live?.expiresAt, newer.session.createdAt + minutes(30));

      await identity.settings.update({ sessionDuration: '2h' });
      assert.equal(await identity.sessions.resolve(older.token), null, 'not brought back by a longer duration');
      assert.deepEqual((await identity.sessions.listForUser(user.id)).map((s) => [s.id, s.expiresAt]), [[newer.session.id, newer.session.createdAt + minutes(30)]]);
      clock.advanceMs(minutes(31));
      assert.equal(await identity.sessions.resolve(newer.token), null, 'not extended past the 30 min it had');
    } finally {
      await fixture.close();
    }
  });

  it('ends every other session of a user on "sign out everywhere"', async () => {
    const fixture = await identityFixture();
    try {
      const { identity } = fixture;
      const user = await identity.users.create({ username: 'dave' });
      const here = await identity.sessions.create(user.id, {});
      const elsewhere = await identity.sessions.create(user.id, {});
      await identity.sessions.destroyAllForUser(user.id, here.session.id);
      assert.ok(await identity.sessions.resolve(here.token));
      assert.equal(await identity.sessions.resolve(elsewhere.token), null);
    } finally {
      await fixture.close();
    }
  });
});
