import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { sha256Base64url } from '../../src/core/crypto.ts';
import { isAppError } from '../../src/core/errors.ts';
import { createClientsService, type ClientsService } from '../../src/oidc/clients.ts';
import { openMigratedDatabase, type Database } from '../../src/storage/database.ts';

const rejectsWith = (code: string) => (error: unknown) => isAppError(error) && error.code === code;

describe('OIDC clients service', () => {
  let database: Database;
  let clients: ClientsService;
  before(async () => {
    database = await openMigratedDatabase(':memory:');
    clients = createClientsService({ db: database.db, clock: systemClock });
    for (const name of ['friends', 'family'])
      await database.db.insertInto('groups').values({ id: `g-${name}`, name, friendly_name: name, created_at: 0 }).execute();
  });
  after(() => database.close());

  it('creates the guide\'s client with the id it asks for and shows a 256-bit secret once, storing only its SHA-256', async () => {
    const { client, secret } = await clients.create({ id: 'pocket-id-client', name: 'agents', redirectUris: ['https://agents.example.com/oauth2/callback'], allowedGroups: ['friends'] });
    assert.equal(client.id, 'pocket-id-client');
    assert.equal(Buffer.from(secret!, 'base64url').length, 32);
    const row = await database.db.selectFrom('oidc_clients').selectAll().where('id', '=', 'pocket-id-client').executeTakeFirstOrThrow();
    assert.equal(row.secret_hash, sha256Base64url(secret!));
    assert.ok(!JSON.stringify(row).includes(secret!));
    assert.deepEqual((await clients.get('pocket-id-client')).allowedGroups, ['friends']);
  });

  it('generates an id when none is given', async () => {
    const { client } = await clients.create({ name: 'generated', redirectUris: ['https://a.example.com/cb'] });
    assert.match(client.id, /^[A-Za-z0-9_-]{20,}$/);
  });

  it('refuses a taken id', async () => {
    await assert.rejects(clients.create({ id: 'pocket-id-client', name: 'again', redirectUris: ['https://a.example.com/cb'] }), rejectsWith('client_id_taken'));
  });

  const badUris: [string, string][] = [
    ['a relative URI', '/oauth2/callback'],
    ['a fragment', 'https://a.example.com/cb#x'],
    ['plain http to another host', 'http://a.example.com/cb'],
    ['another scheme', 'javascript:alert(1)'],
    ['credentials', 'https://user:pw@a.example.com/cb'],
  ];
  for (const [what, uri] of badUris) {
    it(`refuses a redirect URI with ${what}`, async () => {
      await assert.rejects(clients.create({ name: 'bad', redirectUris: [uri] }), rejectsWith('invalid_redirect_uri'));
    });
  }

  it('accepts plain http for localhost and 127.0.0.1', async () => {
    const { client } = await clients.create({ name: 'local', redirectUris: ['http://localhost:4180/oauth2/callback', 'http://127.0.0.1:4180/oauth2/callback'] });
    assert.equal(client.redirectUris.length, 2);
  });

  it('refuses a wildcard, which Pocket ID would match and latchkey would store as a literal that never matches', async () => {
    for (const uri of ['https://*.example.com/cb', 'https://app.example.com/*', 'https://app.example.com/cb?app=*']) {
      await assert.rejects(clients.create({ name: 'wild', redirectUris: [uri] }), (error: unknown) =>
        isAppError(error) && error.code === 'invalid_redirect_uri' && /wildcard/.test(error.message) && /each/.test(error.message));
    }
  });

  it('says which plain http addresses it accepts', async () => {
    await assert.rejects(clients.create({ name: 'lan', redirectUris: ['http://192.168.1.10:2283/auth/login'] }), (error: unknown) =>
      isAppError(error) && /localhost, 127\.0\.0\.1 or \[::1\]/.test(error.message));
  });

  it('stores the scheme and host in the form clients send (lower case, no default port), and the path and query as typed', async () => {
    const { client } = await clients.create({
      name: 'typed', redirectUris: ['HTTP://LOCALHOST/CB', 'https://App.Example.com:443/Cb?Next=%2F', 'https://app.example.com:8443/cb', 'https://app.example.com'],
      postLogoutRedirectUris: ['HTTPS://APP.EXAMPLE.COM:443/bye'], backchannelLogoutUri: 'http://127.0.0.1:80/backchannel',
    });
    assert.deepEqual(client.redirectUris, ['http://localhost/CB', 'https://app.example.com/Cb?Next=%2F', 'https://app.example.com:8443/cb', 'https://app.example.com']);
    assert.deepEqual(client.postLogoutRedirectUris, ['https://app.example.com/bye']);
    assert.equal(client.backchannelLogoutUri, 'http://127.0.0.1/backchannel');
  });

  it('refuses a client without redirect URIs, and unknown groups', async () => {
    await assert.rejects(clients.create({ name: 'none', redirectUris: [] }), rejectsWith('invalid_redirect_uri'));
    await assert.rejects(clients.create({ name: 'g', redirectUris: ['https://a.example.com/cb'], allowedGroups: ['nobody'] }), rejectsWith('unknown_group'));
  });

  it('makes a public client without a secret and always with PKCE', async () => {
    const { client, secret } = await clients.create({ name: 'spa', isPublic: true, requirePkce: false, redirectUris: ['https://spa.example.com/cb'] });
    assert.equal(secret, null);
    assert.equal(client.requirePkce, true);
    await assert.rejects(clients.regenerateSecret(client.id), rejectsWith('public_client'));
  });

  it('regenerates a secret so the old one no longer matches', async () => {
    const { client, secret } = await clients.create({ name: 'rotate', redirectUris: ['https://r.example.com/cb'] });
    const { secret: fresh } = await clients.regenerateSecret(client.id);
    assert.notEqual(fresh, secret);
    const row = await database.db.selectFrom('oidc_clients').select('secret_hash').where('id', '=', client.id).executeTakeFirstOrThrow();
    assert.equal(row.secret_hash, sha256Base64url(fresh));
  });

  it('updates redirect URIs and groups, and gives a secret to a client that becomes confidential', async () => {
    const { client } = await clients.create({ name: 'change', isPublic: true, redirectUris: ['https://c.example.com/cb'] });
    const { client: updated, secret } = await clients.update(client.id, { isPublic: false, redirectUris: ['https://c.example.com/cb2'], allowedGroups: ['family'], backchannelLogoutUri: 'https://c.example.com/bc' });
    assert.ok(secret);
    assert.equal(updated.isPublic, false);
    assert.deepEqual(updated.redirectUris, ['https://c.example.com/cb2']);
    assert.deepEqual(updated.allowedGroups, ['family']);
    assert.equal(updated.backchannelLogoutUri, 'https://c.example.com/bc');
  });

  it('lists and deletes clients', async () => {
    const before = (await clients.list()).length;
    const { client } = await clients.create({ name: 'gone', redirectUris: ['https://g.example.com/cb'], allowedGroups: ['friends'] });
    assert.equal((await clients.list()).length, before + 1);
    await clients.delete(client.id);
    await assert.rejects(clients.get(client.id), rejectsWith('not_found'));
    assert.equal((await database.db.selectFrom('client_groups').where('client_id', '=', client.id).selectAll().execute()).length, 0);
  });
});
