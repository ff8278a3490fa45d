import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { createAdapterFactory } from '../../src/oidc/adapter.ts';
import { openMigratedDatabase, type Database } from '../../src/storage/database.ts';

// The same contract on both backends: PostgreSQL runs on 127.0.0.1:5432 on this project's machines.
for (const [name, connection] of [['SQLite', ':memory:'], ['PostgreSQL', 'postgres://postgres@127.0.0.1:5432/test']] as const) {
  describe(`oidc-provider adapter over ${name}`, () => {
    let database: Database;
    const clock = manualClock();
    const prefix = `${process.pid}-${Math.random().toString(36).slice(2)}`;
    const id = (value: string) => `${prefix}-${value}`;
    before(async () => { database = await openMigratedDatabase(connection); });
    after(async () => {
      await database.db.deleteFrom('oidc_payloads').where('id', 'like', `${prefix}-%`).execute();
      await database.close();
    });
    const adapter = (model: string) => createAdapterFactory(database.db, clock)(model);

    it('finds what it stored until it expires', async () => {
      await adapter('AccessToken').upsert(id('at'), { jti: id('at'), accountId: 'u1', grantId: id('g') }, 60);
      assert.equal((await adapter('AccessToken').find(id('at')))?.accountId, 'u1');
      clock.advanceMs(60_000);
      assert.equal(await adapter('AccessToken').find(id('at')), undefined);
    });

    it('keeps models apart', async () => {
      await adapter('Session').upsert(id('same'), { uid: id('uid-1'), accountId: 'u1' }, 60);
      assert.equal(await adapter('Grant').find(id('same')), undefined);
      assert.equal((await adapter('Session').findByUid(id('uid-1')))?.accountId, 'u1');
    });

    it('marks a consumed code as consumed', async () => {
      await adapter('AuthorizationCode').upsert(id('code'), { jti: id('code'), grantId: id('g2') }, 60);
      await adapter('AuthorizationCode').consume(id('code'));
      assert.equal(typeof (await adapter('AuthorizationCode').find(id('code')))?.consumed, 'number');
    });

    it('revokes its own model\'s payloads of a grant, as oidc-provider asks each token model in turn', async () => {
      await adapter('AccessToken').upsert(id('at2'), { grantId: id('g3') }, 60);
      await adapter('RefreshToken').upsert(id('rt2'), { grantId: id('g3') }, 60);
      await adapter('RefreshToken').upsert(id('rt3'), { grantId: id('other') }, 60);
      // a sign-in in progress carries the grant it will extend; it must outlive the old tokens
      await adapter('Interaction').upsert(id('i1'), { grantId: id('g3') }, 60);
      await adapter('AccessToken').revokeByGrantId(id('g3'));
      assert.equal(await adapter('AccessToken').find(id('at2')), undefined);
      assert.ok(await adapter('RefreshToken').find(id('rt2')), 'left to RefreshToken.revokeByGrantId');
      await adapter('RefreshToken').revokeByGrantId(id('g3'));
      assert.equal(await adapter('RefreshToken').find(id('rt2')), undefined);
      assert.ok(await adapter('RefreshToken').find(id('rt3')));
      assert.ok(await adapter('Interaction').find(id('i1')));
    });

    it('replaces a payload on upsert and destroys it', async () => {
      await adapter('Session').upsert(id('s'), { accountId: 'a' }, 60);
      await adapter('Session').upsert(id('s'), { accountId: 'b' }, 60);
      assert.equal((await adapter('Session').find(id('s')))?.accountId, 'b');
      await adapter('Session').destroy(id('s'));
      assert.equal(await adapter('Session').find(id('s')), undefined);
    });

    it('serves clients read-only from oidc_clients', async () => {
      await database.db.insertInto('oidc_clients').values({
        id: id('client'), name: 'C', secret_hash: 'hash', redirect_uris: '["https://c.example.com/cb"]', post_logout_redirect_uris: '[]',
        is_public: 0, unrestricted: 0, backchannel_logout_uri: null, require_pkce: 0, created_at: 0, updated_at: 0,
      }).execute();
      try {
        const metadata = await adapter('Client').find(id('client'));
        assert.equal(metadata?.client_id, id('client'));
        assert.deepEqual(metadata?.redirect_uris, ['https://c.example.com/cb']);
        assert.equal(metadata?.token_endpoint_auth_method, 'client_secret_basic');
        await assert.rejects(adapter('Client').upsert(id('client'), {}, 60));
      } finally {
        await database.db.deleteFrom('oidc_clients').where('id', '=', id('client')).execute();
      }
    });
  });
}
