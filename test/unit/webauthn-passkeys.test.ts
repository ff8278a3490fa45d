import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createWebauthnFixture, type WebauthnFixture } from '../helpers/webauthn-fixture.ts';

describe("managing a user's passkeys", () => {
  let fx: WebauthnFixture;
  beforeEach(async () => { fx = await createWebauthnFixture(); });
  afterEach(async () => { await fx.close(); });

  async function enrolled(userId: string) {
    const registrant = await fx.addUser(userId);
    const authenticator = fx.authenticator();
    const { options, ...flow } = await fx.webauthn.startRegistration(registrant);
    const passkey = await fx.webauthn.finishRegistration(flow, authenticator.register(options), { userId });
    return { authenticator, passkey };
  }

  it('renames one of the owner’s passkeys', async () => {
    const { passkey } = await enrolled('alice');
    await fx.webauthn.renamePasskey('alice', passkey.id, '  Work laptop ');
    assert.equal((await fx.webauthn.listPasskeys('alice'))[0].name, 'Work laptop');
  });

  it("refuses to rename another user's passkey as not found, and leaves it unchanged", async () => {
    const { passkey } = await enrolled('alice');
    await fx.addUser('mallory');
    await assert.rejects(fx.webauthn.renamePasskey('mallory', passkey.id, 'Mine now'), { code: 'webauthn_passkey_not_found', status: 404 });
    assert.equal((await fx.webauthn.listPasskeys('alice'))[0].name, 'Passkey 1');
  });

  it('refuses a blank name', async () => {
    const { passkey } = await enrolled('alice');
    await assert.rejects(fx.webauthn.renamePasskey('alice', passkey.id, '   '), { code: 'webauthn_invalid_name', status: 400 });
  });

  it("refuses to delete another user's passkey as not found, and keeps it", async () => {
    const { passkey } = await enrolled('alice');
    await fx.addUser('mallory');
    await assert.rejects(fx.webauthn.deletePasskey('mallory', passkey.id), { code: 'webauthn_passkey_not_found' });
    assert.equal(await fx.webauthn.countPasskeys('alice'), 1);
  });

  it('deletes one of the owner’s passkeys, after which it no longer signs in', async () => {
    const { authenticator, passkey } = await enrolled('alice');
    await fx.webauthn.deletePasskey('alice', passkey.id);
    assert.equal(await fx.webauthn.countPasskeys('alice'), 0);
    const { options, ...flow } = await fx.webauthn.startLogin();
    await assert.rejects(fx.webauthn.finishLogin(flow, authenticator.login(options)), { code: 'webauthn_unknown_passkey' });
  });

  it('lists only the user’s own passkeys, oldest first, with what the authenticator reported', async () => {
    const { passkey: first } = await enrolled('alice');
    await enrolled('bob');
    fx.clock.advanceMs(1000);
    const { options, ...flow } = await fx.webauthn.startRegistration({ userId: 'alice', username: 'alice', displayName: 'Alice' });
    const second = await fx.webauthn.finishRegistration(flow, fx.authenticator({ backupEligible: false }).register(options), { userId: 'alice' });
    const listed = await fx.webauthn.listPasskeys('alice');
    assert.deepEqual(listed.map((p) => p.id), [first.id, second.id]);
    assert.deepEqual(listed.map((p) => [p.backupEligible, p.backupState]), [[true, true], [false, false]]);
    assert.deepEqual(listed[0].transports, ['internal', 'hybrid']);
  });
});
