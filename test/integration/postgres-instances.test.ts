// Several latchkey id instances on one PostgreSQL database: start-up, key rotation and first-run
// setup each have exactly one winner. Every instance has its own connection pool, so the
// transactions really run side by side, as they do in separate processes.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createIdApp, type IdApp } from '../../src/app/id-app.ts';
import { loadIdConfig } from '../../src/config/id-config.ts';
import { manualClock } from '../../src/core/clock.ts';
import { isAppError } from '../../src/core/errors.ts';
import { createIdentity } from '../../src/identity/index.ts';
import { ensureSigningKey, loadSigningKeys, rotateSigningKey } from '../../src/oidc/keys.ts';
import { openMigratedDatabase, type Database } from '../../src/storage/database.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/backends.ts';
import { freePort } from '../helpers/free-port.ts';

const KEY = Buffer.from('an-encryption-key-of-some-length');

describe('several instances on one PostgreSQL database', () => {
  let postgres: TestPostgres;
  let instances: Database[];
  const clock = manualClock();
  beforeEach(async () => {
    postgres = await createTestPostgres();
    instances = await Promise.all([openMigratedDatabase(postgres.url), openMigratedDatabase(postgres.url)]);
  });
  afterEach(async () => {
    await Promise.all(instances.map((instance) => instance.close()));
    await postgres.drop();
  });

  it('keeps one signing key when two instances start at the same time', async () => {
    const kids = await Promise.all(instances.map((instance) => ensureSigningKey(instance.db, clock, KEY, 'RS256')));
    assert.equal(kids[0], kids[1]);
    assert.deepEqual((await instances[0].db.selectFrom('signing_keys').select('kid').execute()).map((r) => r.kid), [kids[0]]);
  });

  it('lets exactly one of two instances rotating at once win, and both then sign with its key', async () => {
    const first = await ensureSigningKey(instances[0].db, clock, KEY, 'RS256');
    const results = await Promise.allSettled(instances.map((instance) => rotateSigningKey(instance.db, clock, KEY, { alg: 'RS256', overlapSeconds: 60 })));
    const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    assert.equal(won.length, 1);
    assert.ok(lost.length === 1 && isAppError(lost[0]) && lost[0].code === 'rotation_conflict', String(lost[0]));
    assert.equal(won[0].previousKid, first);
    for (const instance of instances) {
      const keys = await loadSigningKeys(instance.db, clock, KEY);
      assert.deepEqual(keys.privateJwks.map((k) => k.kid), [won[0].kid, first], 'the winner signs, the previous key still verifies');
    }
  });

  it('lets two instances that start with a changed algorithm agree on one new key', async () => {
    await ensureSigningKey(instances[0].db, clock, KEY, 'RS256');
    const kids = await Promise.all(instances.map((instance) => ensureSigningKey(instance.db, clock, KEY, 'ES256')));
    assert.equal(kids[0], kids[1]);
    assert.equal((await loadSigningKeys(instances[1].db, clock, KEY)).currentKid, kids[0]);
  });

  it('creates exactly one first admin when the setup link is used on two instances at once', async () => {
    const [a, b] = instances.map((instance) => createIdentity({ db: instance.db, clock, sessionTtlSeconds: 3600 }));
    const { token } = await a.setup.issueLink();
    const results = await Promise.allSettled([a.setup.complete(token, { username: 'first' }), b.setup.complete(token, { username: 'second' })]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal(await b.users.count(), 1);
    await assert.rejects(b.setup.issueLink(), { code: 'setup_closed' });
  });
});

describe('two latchkey id servers starting together on a fresh PostgreSQL database', () => {
  it('both start and publish the same signing key', async () => {
    const postgres = await createTestPostgres();
    const apps: IdApp[] = [];
    try {
      const port = await freePort();
      const config = loadIdConfig({ env: {
        APP_URL: `http://localhost:${port}`, HOST: '127.0.0.1', PORT: '0', DB_CONNECTION_STRING: postgres.url,
        ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef', LOG_LEVEL: 'error',
      } });
      const started = await Promise.allSettled([createIdApp(config, { logger: false }), createIdApp(config, { logger: false })]);
      for (const result of started) if (result.status === 'fulfilled') apps.push(result.value);
      assert.equal(apps.length, 2, `both started: ${started.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')).join(', ')}`);
      const jwks = await Promise.all(apps.map(async (app) => (await app.app.inject({ url: '/.well-known/jwks.json' })).json() as { keys: { kid: string }[] }));
      assert.equal(jwks[0].keys.length, 1);
      assert.deepEqual(jwks[0].keys.map((k) => k.kid), jwks[1].keys.map((k) => k.kid));
    } finally {
      await Promise.all(apps.map((app) => app.close()));
      await postgres.drop();
    }
  });
});
