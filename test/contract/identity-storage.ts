// One set of storage cases for the identity provider (users, groups, links, sessions, API keys,
// audit log, setup, passkeys, the oidc-provider adapter), run on every database latchkey supports.
// The cases go through the services, so SQL that only one database accepts fails here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errors } from 'oidc-provider';
import { createAdapterFactory } from '../../src/oidc/adapter.ts';
import { sweepExpired } from '../../src/storage/ephemeral-store.ts';
import { identityFixture } from '../helpers/identity-fixture.ts';
import { createWebauthnFixture, type WebauthnFixture } from '../helpers/webauthn-fixture.ts';

export interface DatabaseBackend {
  /** A new, empty database: its connection string and how to remove it. */
  create(): Promise<{ connection: string; drop(): Promise<void> }>;
}

type IdentityFixture = Awaited<ReturnType<typeof identityFixture>>;

export function identityStorageContract(name: string, backend: DatabaseBackend) {
  describe(`identity storage on ${name}`, () => {
    let fx: IdentityFixture;
    let drop: () => Promise<void>;
    before(async () => {
      const database = await backend.create();
      drop = database.drop;
      fx = await identityFixture(database.connection);
    });
    after(async () => {
      await fx.close();
      await drop();
    });

    it('refuses a second user with the same username in another case', async () => {
      await fx.identity.users.create({ username: 'Erin', email: 'erin@example.com' });
      await assert.rejects(fx.identity.users.create({ username: 'erin' }), { code: 'username_taken' });
    });

    it('stores emails in lower case and refuses a duplicate', async () => {
      const frank = await fx.identity.users.create({ username: 'frank', email: 'Frank@Example.COM' });
      assert.equal(frank.email, 'frank@example.com');
      await assert.rejects(fx.identity.users.create({ username: 'frank2', email: 'FRANK@example.com' }), { code: 'email_taken' });
    });

    it('finds a user by username or email, case-insensitively', async () => {
      assert.equal((await fx.identity.users.findByLogin('ERIN'))?.username, 'Erin');
      assert.equal((await fx.identity.users.findByLogin('erin@EXAMPLE.com'))?.username, 'Erin');
    });

    it('refuses a username that is another user\'s email, and an email that is another user\'s username', async () => {
      const users = fx.identity.users;
      const carol = await users.create({ username: 'carol@example.com' });
      const mallory = await users.create({ username: 'mallory', email: 'mallory@example.com' });
      await assert.rejects(users.update(mallory.id, { email: 'Carol@Example.com' }), { code: 'email_taken', message: /carol@example\.com is another user's username/ });
      await assert.rejects(users.create({ username: 'MALLORY@example.com' }), { code: 'username_taken', message: /another user's email address/ });
      await assert.rejects(users.update(carol.id, { username: 'mallory@example.com' }), { code: 'username_taken' });
      // a person's own username and email may be the same
      assert.equal((await users.update(carol.id, { email: 'carol@example.com' })).email, 'carol@example.com');
      assert.equal((await users.require(mallory.id)).email, 'mallory@example.com');
    });

    it('finds the username\'s owner first where older data let another user take that name as email', async () => {
      const users = fx.identity.users;
      // The squatter takes the address as email while nobody has it as a username; the owner's
      // rename is written past the service, as a database from before the check could hold it.
      // (On PostgreSQL the renamed row then lies after the squatter's, which a query without
      // preference returns first.)
      const owner = await users.create({ username: 'dave' });
      const squatter = await users.create({ username: 'squatter', email: 'dave@example.com' });
      await fx.db.updateTable('users').set({ username: 'dave@example.com' }).where('id', '=', owner.id).execute();
      assert.equal((await users.findByLogin('Dave@Example.com'))?.id, owner.id);
      assert.equal((await users.findByLogin('squatter'))?.id, squatter.id);
    });

    it('treats LIKE wildcards in a search as plain text', async () => {
      assert.deepEqual((await fx.identity.users.list({ search: 'rin' })).map((u) => u.username), ['Erin']);
      assert.equal((await fx.identity.users.list({ search: '%' })).length, 0);
      assert.equal((await fx.identity.users.list({ search: 'e_in' })).length, 0);
      assert.equal((await fx.identity.users.list({ search: '\\' })).length, 0);
    });

    it('keeps group memberships unchanged when one of the names is unknown', async () => {
      const user = await fx.identity.users.create({ username: 'grace' });
      await fx.identity.groups.create({ name: 'family' });
      await fx.identity.groups.setUserGroups(user.id, ['family']);
      await assert.rejects(fx.identity.groups.setUserGroups(user.id, ['family', 'nope']), { code: 'unknown_group' });
      assert.deepEqual(await fx.identity.groups.namesForUser(user.id), ['family']);
    });

    it('keeps one active admin when two admins are demoted at the same moment', async () => {
      const first = await fx.identity.users.create({ username: 'admin-one', isAdmin: true });
      const second = await fx.identity.users.create({ username: 'admin-two', isAdmin: true });
      // Other admins from earlier cases would make the race moot; there are none.
      assert.equal(await fx.identity.users.countActiveAdmins(), 2);
      const results = await Promise.allSettled([
        fx.identity.users.update(first.id, { isAdmin: false }),
        fx.identity.users.update(second.id, { isAdmin: false }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one demotion is refused');
      assert.equal(await fx.identity.users.countActiveAdmins(), 1);
    });

    it('honours a one-time link exactly once, even when two requests use it together', async () => {
      const user = await fx.identity.users.create({ username: 'linked' });
      const { token } = await fx.identity.links.issue('signin', user.id, 600);
      const results = await Promise.allSettled([fx.identity.links.consume(token, 'signin'), fx.identity.links.consume(token, 'signin')]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      await assert.rejects(fx.identity.links.consume(token, 'signin'), { code: 'link_invalid' });
    });

    it('resolves a web session until sign-out, and not for a disabled user', async () => {
      const user = await fx.identity.users.create({ username: 'carol' });
      const first = await fx.identity.sessions.create(user.id, {});
      assert.equal((await fx.identity.sessions.resolve(first.token))?.userId, user.id);
      await fx.identity.sessions.destroy(first.token);
      assert.equal(await fx.identity.sessions.resolve(first.token), null);
      const second = await fx.identity.sessions.create(user.id, {});
      await fx.identity.users.update(user.id, { disabled: true });
      assert.equal(await fx.identity.sessions.resolve(second.token), null);
    });

    it('verifies an API key by its hash until it is revoked', async () => {
      const { key, apiKey } = await fx.identity.apiKeys.create({ name: 'deploy' });
      assert.equal((await fx.identity.apiKeys.verify(key))?.id, apiKey.id);
      await fx.identity.apiKeys.revoke(apiKey.id);
      assert.equal(await fx.identity.apiKeys.verify(key), null);
    });

    it("verifies an admin's API key only while its creator is an active admin", async () => {
      await fx.identity.users.create({ username: 'other-admin', isAdmin: true });
      const admin = await fx.identity.users.create({ username: 'key-maker', isAdmin: true });
      const { key, apiKey } = await fx.identity.apiKeys.create({ name: 'sync', createdBy: admin.id });
      assert.equal((await fx.identity.apiKeys.verify(key))?.id, apiKey.id);
      await fx.identity.users.update(admin.id, { isAdmin: false });
      assert.equal(await fx.identity.apiKeys.verify(key), null);
      await fx.identity.users.update(admin.id, { isAdmin: true, disabled: true });
      assert.equal(await fx.identity.apiKeys.verify(key), null);
      await fx.identity.users.update(admin.id, { disabled: false });
      assert.equal((await fx.identity.apiKeys.verify(key))?.id, apiKey.id);
      await fx.identity.users.remove(admin.id);
      assert.equal(await fx.identity.apiKeys.verify(key), null);
    });

    it('lists audit events newest first, filtered by user', async () => {
      const user = await fx.identity.users.create({ username: 'audited' });
      await fx.identity.audit.record({ event: 'sign_in', userId: user.id });
      fx.clock.advanceMs(1000);
      await fx.identity.audit.record({ event: 'sign_out', userId: user.id });
      await fx.identity.audit.record({ event: 'sign_in', userId: 'someone-else' });
      assert.deepEqual((await fx.identity.audit.list({ userId: user.id })).map((e) => e.event), ['sign_out', 'sign_in']);
    });

    // As Pocket ID's periodic clean-up: audit entries older than AUDIT_LOG_RETENTION_DAYS (90 by
    // default) are deleted, so rows that anyone can cause (failed recovery-code sign-ins) cannot
    // fill the disk over time.
    it('keeps audit entries for the retention period, then the expiry sweep deletes them', async () => {
      const DAY = 24 * 60 * 60_000;
      const sweep = () => sweepExpired(fx.db, fx.clock, { auditLogRetentionDays: 90 });
      await fx.identity.audit.record({ event: 'retention_old' });
      fx.clock.advanceMs(DAY);
      await fx.identity.audit.record({ event: 'retention_new' });
      fx.clock.advanceMs(89 * DAY);
      await sweep();
      assert.equal((await fx.identity.audit.list({ event: 'retention_old' })).length, 1, 'exactly 90 days old: kept');
      fx.clock.advanceMs(1);
      await sweep();
      assert.equal((await fx.identity.audit.list({ event: 'retention_old' })).length, 0, 'older than 90 days: deleted');
      assert.equal((await fx.identity.audit.list({ event: 'retention_new' })).length, 1, '89 days old: kept');
    });

    it('removes a user and what belongs to them', async () => {
      const user = await fx.identity.users.create({ username: 'leaving' });
      const { token } = await fx.identity.sessions.create(user.id, {});
      await fx.identity.users.remove(user.id);
      assert.equal(await fx.identity.users.get(user.id), null);
      assert.equal(await fx.identity.sessions.resolve(token), null);
    });

    it('stores an oidc-provider payload and gives it back unchanged', async () => {
      const adapter = createAdapterFactory(fx.db, fx.clock)('Session');
      // as oidc-provider saves a Session: its id (the session cookie) is also the payload's jti
      const payload = { jti: 'session-1', uid: 'uid-ü', accountId: 'a', authorizations: { client: { sid: 's', grantId: 'g' } }, text: 'naïve ✓ "quoted"' };
      await adapter.upsert('session-1', payload, 60);
      assert.deepEqual(await adapter.find('session-1'), payload);
      // found by uid, it comes back without the id, which is stored only as its hash (adapter.ts)
      const { jti: _id, ...withoutId } = payload;
      assert.deepEqual(await adapter.findByUid('uid-ü'), withoutId);
    });

    it('marks an authorization code consumed and revokes a grant\'s tokens together', async () => {
      const factory = createAdapterFactory(fx.db, fx.clock);
      await factory('AuthorizationCode').upsert('code-1', { grantId: 'grant-1' }, 60);
      await factory('AccessToken').upsert('at-1', { grantId: 'grant-1' }, 60);
      await factory('AuthorizationCode').consume('code-1');
      assert.equal(typeof (await factory('AuthorizationCode').find('code-1'))?.consumed, 'number');
      await factory('AccessToken').revokeByGrantId('grant-1');
      assert.equal(await factory('AccessToken').find('at-1'), undefined);
    });

    it('consumes a code or refresh token once when consumers race; a loser revokes the grant', async () => {
      const factory = createAdapterFactory(fx.db, fx.clock);
      for (const model of ['AuthorizationCode', 'RefreshToken']) {
        const grantId = `race-grant-${model}`;
        await factory('Grant').upsert(grantId, { jti: grantId, accountId: 'a', clientId: 'c' }, 60);
        await factory(model).upsert(`race-${model}`, { jti: `race-${model}`, grantId }, 60);
        await factory('AccessToken').upsert(`race-at-${model}`, { grantId }, 60);
        const results = await Promise.allSettled(Array.from({ length: 8 }, () => factory(model).consume(`race-${model}`)));
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, model);
        for (const result of results.filter((r) => r.status === 'rejected')) {
          assert.ok(result.reason instanceof errors.InvalidGrant, `${model}: ${String(result.reason)}`);
        }
        assert.equal(await factory('Grant').find(grantId), undefined, `${model}: grant revoked`);
        assert.equal(await factory('AccessToken').find(`race-at-${model}`), undefined, `${model}: tokens revoked`);
        assert.equal(await factory(model).find(`race-${model}`), undefined, `${model}: the reused one too`);
      }
    });

    it('refuses a pushed authorization request used twice as an invalid request_uri', async () => {
      const adapter = createAdapterFactory(fx.db, fx.clock)('PushedAuthorizationRequest');
      await adapter.upsert('par-1', { jti: 'par-1' }, 60);
      await adapter.consume('par-1');
      await assert.rejects(adapter.consume('par-1'), (error) => error instanceof errors.InvalidRequestUri);
    });
  });

  describe(`first-run setup on ${name}`, () => {
    it('lets exactly one of two concurrent completions win', async () => {
      const database = await backend.create();
      const fx = await identityFixture(database.connection);
      try {
        const { token } = await fx.identity.setup.issueLink();
        const results = await Promise.allSettled([
          fx.identity.setup.complete(token, { username: 'first' }),
          fx.identity.setup.complete(token, { username: 'second' }),
        ]);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        assert.equal(await fx.identity.users.count(), 1);
        assert.equal(await fx.identity.setup.isComplete(), true);
      } finally {
        await fx.close();
        await database.drop();
      }
    });
  });

  describe(`passkeys on ${name}`, () => {
    let wx: WebauthnFixture;
    let drop: () => Promise<void>;
    before(async () => {
      const database = await backend.create();
      drop = database.drop;
      wx = await createWebauthnFixture({ store: 'database', connection: database.connection });
    });
    after(async () => {
      await wx.close();
      await drop();
    });

    it('registers a passkey, signs in with it and records the counter and the time of use', async () => {
      const registrant = await wx.addUser('alice');
      const authenticator = wx.authenticator();
      const registration = await wx.webauthn.startRegistration(registrant);
      const passkey = await wx.webauthn.finishRegistration(registration, authenticator.register(registration.options), { userId: 'alice' });
      wx.clock.advanceMs(5000);
      const login = await wx.webauthn.startLogin();
      assert.deepEqual(await wx.webauthn.finishLogin(login, authenticator.login(login.options, { signCount: 7 })), { userId: 'alice', passkeyId: passkey.id });
      const row = await wx.db.selectFrom('passkeys').selectAll().where('id', '=', passkey.id).executeTakeFirstOrThrow();
      assert.equal(Number(row.sign_count), 7);
      assert.equal(Number(row.last_used_at), wx.clock.nowMs());
    });

    it('refuses a replayed assertion: the flow is taken by the first use', async () => {
      const registrant = await wx.addUser('bob');
      const authenticator = wx.authenticator();
      const registration = await wx.webauthn.startRegistration(registrant);
      await wx.webauthn.finishRegistration(registration, authenticator.register(registration.options), { userId: 'bob' });
      const login = await wx.webauthn.startLogin();
      const assertion = authenticator.login(login.options);
      await wx.webauthn.finishLogin(login, assertion);
      await assert.rejects(wx.webauthn.finishLogin(login, assertion));
    });

    it('lists only the user\'s own passkeys, oldest first', async () => {
      const registrant = await wx.addUser('carol');
      for (const signal of [1, 2]) {
        const registration = await wx.webauthn.startRegistration(registrant);
        await wx.webauthn.finishRegistration(registration, wx.authenticator().register(registration.options), { userId: 'carol' });
        wx.clock.advanceMs(signal * 1000);
      }
      const list = await wx.webauthn.listPasskeys('carol');
      assert.equal(list.length, 2);
      assert.ok(list[0].createdAtMs < list[1].createdAtMs);
    });
  });
}
