import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { Migrator } from 'kysely';
import { sha256Base64url } from '../../src/core/crypto.ts';
import { createAdapterFactory, storedPayloadId } from '../../src/oidc/adapter.ts';
import { migrateToLatest, openDatabase, openMigratedDatabase, type Database } from '../../src/storage/database.ts';
import { migrationProvider } from '../../src/storage/migrations/index.ts';
import { createTestPostgres } from '../helpers/backends.ts';

// The same contract on both backends: PostgreSQL runs on 127.0.0.1:5432 on this project's machines.
for (const [name, connection] of [['SQLite', ':memory:'], ['PostgreSQL', 'postgres://postgres@127.0.0.1:5432/test']] as const) {
  describe(`oidc-provider adapter over ${name}`, () => {
    let database: Database;
    const clock = manualClock();
    const prefix = `${process.pid}-${Math.random().toString(36).slice(2)}`;
    const id = (value: string) => `${prefix}-${value}`;
    // the shared PostgreSQL database keeps rows between runs: remember each one stored
    const stored: { model: string; id: string }[] = [];
    before(async () => { database = await openMigratedDatabase(connection); });
    after(async () => {
      for (const row of stored) await database.db.deleteFrom('oidc_payloads').where('model', '=', row.model).where('id', '=', storedPayloadId(row.model, row.id)).execute();
      await database.close();
    });
    const adapter = (model: string) => {
      const made = createAdapterFactory(database.db, clock)(model);
      return { ...made, upsert: (key: string, payload: Parameters<typeof made.upsert>[1], ttl: number) => { stored.push({ model, id: key }); return made.upsert(key, payload, ttl); } };
    };
    const rowsHolding = async (value: string) => (await database.db.selectFrom('oidc_payloads').select(['model', 'id', 'payload']).execute())
      .filter((row) => row.id === value || row.payload.includes(value));

    it('keeps a token, code or cookie value only as its hash, and finds it by the value', async () => {
      for (const model of ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'Session', 'Interaction']) {
        const value = id(`${model}-value`);
        await adapter(model).upsert(value, { jti: value, accountId: 'u1', kind: model }, 60);
        assert.deepEqual(await rowsHolding(value), [], `${model}: no row holds the value in plain`);
        const row = await database.db.selectFrom('oidc_payloads').select('id').where('model', '=', model).where('id', '=', sha256Base64url(value)).executeTakeFirst();
        assert.ok(row, `${model}: stored under the value's SHA-256`);
        const found = await adapter(model).find(value);
        assert.equal(found?.jti, value, `${model}: found with its jti, as oidc-provider saved it`);
        assert.equal(found?.accountId, 'u1');
        assert.equal(await adapter(model).find(sha256Base64url(value)), undefined, `${model}: the stored hash is no credential`);
      }
    });

    it('keeps a Grant under its own id, which token payloads name', async () => {
      await adapter('Grant').upsert(id('grant'), { jti: id('grant'), accountId: 'u1', clientId: 'c' }, 60);
      const row = await database.db.selectFrom('oidc_payloads').select('payload').where('model', '=', 'Grant').where('id', '=', id('grant')).executeTakeFirst();
      assert.ok(row);
      assert.equal((await adapter('Grant').find(id('grant')))?.clientId, 'c');
    });

    it('leaves the provider session cookie out of an Interaction', async () => {
      await adapter('Interaction').upsert(id('int'), { jti: id('int'), session: { accountId: 'u1', uid: id('uid'), cookie: id('the-session-cookie') } }, 60);
      assert.deepEqual(await rowsHolding(id('the-session-cookie')), []);
      assert.deepEqual((await adapter('Interaction').find(id('int')))?.session, { accountId: 'u1', uid: id('uid') });
    });

    it('consumes and destroys by the value, and consumes it only once', async () => {
      await adapter('RefreshToken').upsert(id('rt-once'), { jti: id('rt-once'), grantId: id('g-once') }, 60);
      await adapter('RefreshToken').consume(id('rt-once'));
      await assert.rejects(adapter('RefreshToken').consume(id('rt-once')), { error: 'invalid_grant', error_detail: 'refresh token already used' });
      assert.equal(await adapter('RefreshToken').find(id('rt-once')), undefined, 'a reuse revokes the grant, the reused token with it');
      await adapter('AccessToken').upsert(id('at-gone'), { jti: id('at-gone') }, 60);
      await adapter('AccessToken').destroy(id('at-gone'));
      assert.equal(await adapter('AccessToken').find(id('at-gone')), undefined);
    });

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

// Migration 0006 on both backends: rows written by the adapter before it (plain ids and jti, the
// session cookie inside an Interaction) are found by the same values afterwards, and held only as hashes.
for (const backend of ['SQLite', 'PostgreSQL'] as const) {
  describe(`migration 0006 (token ids hashed) on ${backend}`, () => {
    it('keeps every issued token, code and session working, and no value in plain', async () => {
      const postgres = backend === 'PostgreSQL' ? await createTestPostgres() : undefined;
      const database = await openDatabase(postgres?.url ?? ':memory:');
      try {
        const { error } = await new Migrator({ db: database.db, provider: migrationProvider }).migrateTo('0005-users-lower-username');
        assert.ifError(error);
        const row = (model: string, key: string, payload: object, extra: { grant_id?: string; uid?: string } = {}) => ({
          model, id: key, payload: JSON.stringify(payload), grant_id: extra.grant_id ?? null, user_code: null, uid: extra.uid ?? null,
          account_id: 'u1', expires_at: null, consumed_at: null,
        });
        await database.db.insertInto('oidc_payloads').values([
          row('RefreshToken', 'refresh-token-value', { jti: 'refresh-token-value', kind: 'RefreshToken', grantId: 'grant-1' }, { grant_id: 'grant-1' }),
          row('Session', 'session-cookie-value', { jti: 'session-cookie-value', kind: 'Session', uid: 'session-uid', accountId: 'u1' }, { uid: 'session-uid' }),
          row('Interaction', 'interaction-value', { jti: 'interaction-value', kind: 'Interaction', session: { uid: 'session-uid', cookie: 'session-cookie-value', accountId: 'u1' } }),
          row('Grant', 'grant-1', { jti: 'grant-1', kind: 'Grant', clientId: 'c' }),
        ]).execute();
        assert.deepEqual(await migrateToLatest(database.db), ['0006-oidc-payload-ids-hashed']);

        const adapter = createAdapterFactory(database.db, manualClock());
        assert.equal((await adapter('RefreshToken').find('refresh-token-value'))?.jti, 'refresh-token-value');
        assert.equal((await adapter('Session').find('session-cookie-value'))?.uid, 'session-uid');
        assert.equal((await adapter('Session').findByUid('session-uid'))?.accountId, 'u1');
        assert.deepEqual((await adapter('Interaction').find('interaction-value'))?.session, { uid: 'session-uid', accountId: 'u1' });
        assert.equal((await adapter('Grant').find('grant-1'))?.clientId, 'c');
        const all = await database.db.selectFrom('oidc_payloads').select(['id', 'payload']).execute();
        for (const secret of ['refresh-token-value', 'session-cookie-value', 'interaction-value']) {
          assert.deepEqual(all.filter((r) => r.id === secret || r.payload.includes(secret)), [], `${secret} is held only as its hash`);
        }
      } finally {
        await database.close();
        await postgres?.drop();
      }
    });
  });
}
