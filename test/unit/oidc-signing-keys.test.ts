import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { isAppError } from '../../src/core/errors.ts';
import { ensureSigningKey, loadSigningKeys, rotateSigningKey } from '../../src/oidc/keys.ts';
import { openMigratedDatabase, type Database } from '../../src/storage/database.ts';

const KEY = Buffer.from('an-encryption-key-of-some-length');

describe('signing keys', () => {
  let database: Database;
  const clock = manualClock();
  beforeEach(async () => {
    await database?.close();
    database = await openMigratedDatabase(':memory:');
  });
  after(() => database.close());

  it('makes an RS256 key on first start and stores the private key only sealed', async () => {
    const kid = await ensureSigningKey(database.db, clock, KEY, 'RS256');
    const row = await database.db.selectFrom('signing_keys').selectAll().executeTakeFirstOrThrow();
    assert.equal(row.kid, kid);
    assert.equal(row.alg, 'RS256');
    assert.doesNotMatch(Buffer.from(row.private_jwk_sealed, 'base64url').toString('latin1'), /"d"|"kty"|RSA/);
    const keys = await loadSigningKeys(database.db, clock, KEY);
    assert.equal(keys.privateJwks[0].kty, 'RSA');
    assert.ok(keys.privateJwks[0].d, 'the private part opens with the right key');
  });

  it('makes an ES256 key when asked', async () => {
    await ensureSigningKey(database.db, clock, KEY, 'ES256');
    const keys = await loadSigningKeys(database.db, clock, KEY);
    assert.equal(keys.privateJwks[0].kty, 'EC');
    assert.equal(keys.privateJwks[0].crv, 'P-256');
    assert.equal(keys.privateJwks[0].alg, 'ES256');
  });

  it('refuses to open the keys with another ENCRYPTION_KEY', async () => {
    await ensureSigningKey(database.db, clock, KEY, 'RS256');
    await assert.rejects(loadSigningKeys(database.db, clock, Buffer.from('another-key-entirely')), (error) => isAppError(error) && error.code === 'signing_key_unreadable');
  });

  it('keeps one key when two instances start at the same time', async () => {
    const [a, b] = await Promise.all([ensureSigningKey(database.db, clock, KEY, 'RS256'), ensureSigningKey(database.db, clock, KEY, 'RS256')]);
    assert.equal(a, b);
    const rows = await database.db.selectFrom('signing_keys').select('kid').execute();
    assert.deepEqual(rows.map((r) => r.kid), [a]);
  });

  it('publishes the previous key after a rotation until its retire time, then drops it', async () => {
    const first = await ensureSigningKey(database.db, clock, KEY, 'RS256');
    const { kid, previousKid } = await rotateSigningKey(database.db, clock, KEY, { alg: 'RS256', overlapSeconds: 3600 });
    assert.equal(previousKid, first);
    const during = await loadSigningKeys(database.db, clock, KEY);
    assert.deepEqual(during.privateJwks.map((k) => k.kid), [kid, first], 'the new key signs (first), the old one still verifies');
    clock.advanceMs(3600_000 + 1);
    const afterwards = await loadSigningKeys(database.db, clock, KEY);
    assert.deepEqual(afterwards.privateJwks.map((k) => k.kid), [kid]);
    assert.notEqual(afterwards.fingerprint, during.fingerprint, 'a retirement changes the fingerprint, so servers rebuild');
  });

  it('publishes a new key at once but signs with the previous one until every server has had time to load it', async () => {
    const first = await ensureSigningKey(database.db, clock, KEY, 'RS256');
    clock.advanceMs(600_000);
    const { kid } = await rotateSigningKey(database.db, clock, KEY, { alg: 'RS256', overlapSeconds: 3600 });
    const propagating = await loadSigningKeys(database.db, clock, KEY, { propagationMs: 120_000 });
    assert.equal(propagating.currentKid, kid);
    assert.equal(propagating.signingKid, first, 'a server that has not loaded the new key yet could not verify its tokens');
    assert.deepEqual(propagating.privateJwks.map((k) => k.kid), [first, kid], 'both published; the previous key first, so it signs');
    clock.advanceMs(120_000);
    const propagated = await loadSigningKeys(database.db, clock, KEY, { propagationMs: 120_000 });
    assert.equal(propagated.signingKid, kid);
    assert.deepEqual(propagated.privateJwks.map((k) => k.kid), [kid, first]);
    assert.notEqual(propagated.fingerprint, propagating.fingerprint, 'the switch changes the fingerprint, so servers rebuild');
  });

  it('falls back past a second rotation made while the first still propagates', async () => {
    const first = await ensureSigningKey(database.db, clock, KEY, 'RS256');
    clock.advanceMs(600_000);
    const { kid: second } = await rotateSigningKey(database.db, clock, KEY, { alg: 'RS256', overlapSeconds: 3600 });
    clock.advanceMs(30_000);
    const { kid: third } = await rotateSigningKey(database.db, clock, KEY, { alg: 'RS256', overlapSeconds: 3600 });
    const keys = await loadSigningKeys(database.db, clock, KEY, { propagationMs: 120_000 });
    assert.equal(keys.signingKid, first, 'the second key is only 30 s old, the third brand new');
    assert.deepEqual(new Set(keys.privateJwks.map((k) => k.kid)), new Set([first, second, third]));
  });

  it('signs with the key published longest when none has been published for the whole window', async () => {
    const first = await ensureSigningKey(database.db, clock, KEY, 'RS256');
    clock.advanceMs(10_000);
    await rotateSigningKey(database.db, clock, KEY, { alg: 'RS256', overlapSeconds: 3600 });
    assert.equal((await loadSigningKeys(database.db, clock, KEY, { propagationMs: 120_000 })).signingKid, first);
  });

  it('signs with the new key at once when no older key of its algorithm is still published', async () => {
    await ensureSigningKey(database.db, clock, KEY, 'RS256');
    clock.advanceMs(600_000);
    const { kid: retiredAtOnce } = await rotateSigningKey(database.db, clock, KEY, { alg: 'RS256', overlapSeconds: 0 });
    assert.equal((await loadSigningKeys(database.db, clock, KEY, { propagationMs: 120_000 })).signingKid, retiredAtOnce, 'zero overlap: the old key is gone');
    clock.advanceMs(600_000);
    const { kid: es256 } = await rotateSigningKey(database.db, clock, KEY, { alg: 'ES256', overlapSeconds: 3600 });
    assert.equal((await loadSigningKeys(database.db, clock, KEY, { propagationMs: 120_000 })).signingKid, es256, 'an RS256 key cannot sign for an ES256 configuration');
  });

  it('lets exactly one of two racing rotations win', async () => {
    await ensureSigningKey(database.db, clock, KEY, 'RS256');
    const results = await Promise.allSettled([
      rotateSigningKey(database.db, clock, KEY, { alg: 'RS256', overlapSeconds: 60 }),
      rotateSigningKey(database.db, clock, KEY, { alg: 'RS256', overlapSeconds: 60 }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.ok(isAppError((lost[0] as PromiseRejectedResult).reason) && (lost[0] as PromiseRejectedResult).reason.code === 'rotation_conflict');
    const keys = await loadSigningKeys(database.db, clock, KEY);
    assert.equal(keys.currentKid, (won[0] as PromiseFulfilledResult<{ kid: string }>).value.kid);
    assert.equal((await database.db.selectFrom('signing_keys').select('kid').execute()).length, 2, 'the loser\'s key was rolled back');
  });

  it('rotates to the configured algorithm when it changed', async () => {
    const rsa = await ensureSigningKey(database.db, clock, KEY, 'RS256');
    const ec = await ensureSigningKey(database.db, clock, KEY, 'ES256');
    assert.notEqual(ec, rsa);
    const keys = await loadSigningKeys(database.db, clock, KEY);
    assert.deepEqual(keys.privateJwks.map((k) => k.alg), ['ES256', 'RS256']);
  });

  it('lets two instances that start with a changed algorithm agree on one new key', async () => {
    await ensureSigningKey(database.db, clock, KEY, 'RS256');
    const [a, b] = await Promise.all([ensureSigningKey(database.db, clock, KEY, 'ES256'), ensureSigningKey(database.db, clock, KEY, 'ES256')]);
    assert.equal(a, b);
    assert.equal((await loadSigningKeys(database.db, clock, KEY)).currentKid, a);
  });

  // The interleaving behind the test above that timing alone rarely produces: one instance reads
  // the old key, another rotates away from it, then the first rotates. It must lose, not rotate again.
  it('refuses a rotation from a key that is no longer current', async () => {
    const rsa = await ensureSigningKey(database.db, clock, KEY, 'RS256');
    const winner = await ensureSigningKey(database.db, clock, KEY, 'ES256');
    await assert.rejects(rotateSigningKey(database.db, clock, KEY, { alg: 'ES256', overlapSeconds: 60, from: rsa }), { code: 'rotation_conflict' });
    assert.equal((await loadSigningKeys(database.db, clock, KEY)).currentKid, winner);
  });
});
