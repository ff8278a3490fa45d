import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { RP_ID, createWebauthnFixture, type WebauthnFixture } from '../helpers/webauthn-fixture.ts';

/** A response as plain JSON, to break one field at a time. */
type LooseResponse = Record<string, unknown> & { response: Record<string, unknown> };

describe('passkey registration', () => {
  let fx: WebauthnFixture;
  beforeEach(async () => { fx = await createWebauthnFixture(); });
  afterEach(async () => { await fx.close(); });

  const passkeyCount = async () => (await fx.db.selectFrom('passkeys').select('id').execute()).length;

  for (const algorithm of ['ES256', 'EdDSA', 'RS256'] as const) {
    it(`registers a ${algorithm} passkey and stores it for the user`, async () => {
      const alice = await fx.addUser('alice');
      const authenticator = fx.authenticator({ algorithm });
      const { options, ...flow } = await fx.webauthn.startRegistration(alice);
      const passkey = await fx.webauthn.finishRegistration(flow, authenticator.register(options), { userId: 'alice' });

      assert.equal(passkey.id, authenticator.credentialIds()[0]);
      assert.equal(passkey.userId, 'alice');
      assert.equal(passkey.name, 'Passkey 1');
      assert.equal(passkey.backupEligible, true);
      assert.deepEqual(await fx.webauthn.listPasskeys('alice'), [passkey]);
    });
  }

  it('asks for a discoverable, user-verified credential with EdDSA, ES256 or RS256 and no attestation', async () => {
    const alice = await fx.addUser('alice');
    const { options } = await fx.webauthn.startRegistration(alice);
    assert.equal(options.rp.id, RP_ID);
    assert.equal(options.user.id, Buffer.from('alice').toString('base64url'));
    assert.equal(options.authenticatorSelection?.residentKey, 'required');
    assert.equal(options.authenticatorSelection?.userVerification, 'required');
    assert.deepEqual(options.pubKeyCredParams.map((param) => param.alg), [-8, -7, -257]);
    assert.equal(options.attestation, 'none');
  });

  it("excludes the user's existing passkeys, so the same authenticator is not registered twice", async () => {
    const alice = await fx.addUser('alice');
    const authenticator = fx.authenticator();
    const first = await fx.webauthn.startRegistration(alice);
    await fx.webauthn.finishRegistration(first, authenticator.register(first.options), { userId: 'alice' });
    const second = await fx.webauthn.startRegistration(alice);
    assert.deepEqual(second.options.excludeCredentials?.map((descriptor) => descriptor.id), authenticator.credentialIds());
    assert.throws(() => authenticator.register(second.options), /InvalidStateError/);
  });

  it('names a second passkey "Passkey 2" and keeps a name the user chose', async () => {
    const alice = await fx.addUser('alice');
    const first = await fx.webauthn.startRegistration(alice);
    await fx.webauthn.finishRegistration(first, fx.authenticator().register(first.options), { userId: 'alice', name: '  Laptop ' });
    fx.clock.advanceMs(1000);
    const second = await fx.webauthn.startRegistration(alice);
    const passkey = await fx.webauthn.finishRegistration(second, fx.authenticator().register(second.options), { userId: 'alice' });
    assert.deepEqual((await fx.webauthn.listPasskeys('alice')).map((p) => p.name), ['Laptop', 'Passkey 2']);
    assert.equal(passkey.name, 'Passkey 2');
  });

  it('refuses a response made on another origin', async () => {
    const alice = await fx.addUser('alice');
    const { options, ...flow } = await fx.webauthn.startRegistration(alice);
    const response = fx.authenticator().register(options, { origin: 'https://id.example.com.evil.test' });
    await assert.rejects(fx.webauthn.finishRegistration(flow, response, { userId: 'alice' }), { code: 'webauthn_origin_mismatch', status: 400 });
    assert.equal(await passkeyCount(), 0);
  });

  it('refuses authenticator data for another RP ID', async () => {
    const alice = await fx.addUser('alice');
    const { options, ...flow } = await fx.webauthn.startRegistration(alice);
    const response = fx.authenticator().register(options, { rpIdForHash: 'evil.test' });
    await assert.rejects(fx.webauthn.finishRegistration(flow, response, { userId: 'alice' }), { code: 'webauthn_rp_mismatch' });
  });

  it('refuses a credential made without user verification', async () => {
    const alice = await fx.addUser('alice');
    const { options, ...flow } = await fx.webauthn.startRegistration(alice);
    const response = fx.authenticator().register(options, { userVerified: false });
    await assert.rejects(fx.webauthn.finishRegistration(flow, response, { userId: 'alice' }), { code: 'webauthn_user_verification_missing' });
  });

  it('refuses a response that answers another challenge', async () => {
    const alice = await fx.addUser('alice');
    const { options, ...flow } = await fx.webauthn.startRegistration(alice);
    const response = fx.authenticator().register(options, { challenge: Buffer.from('another challenge').toString('base64url') });
    await assert.rejects(fx.webauthn.finishRegistration(flow, response, { userId: 'alice' }), { code: 'webauthn_challenge_mismatch' });
  });

  it('refuses a client data type other than webauthn.create', async () => {
    const alice = await fx.addUser('alice');
    const { options, ...flow } = await fx.webauthn.startRegistration(alice);
    const response = fx.authenticator().register(options, { type: 'webauthn.get' });
    await assert.rejects(fx.webauthn.finishRegistration(flow, response, { userId: 'alice' }), { code: 'webauthn_invalid_response' });
  });

  it('accepts a flow once: finishing it again is refused as expired', async () => {
    const alice = await fx.addUser('alice');
    const { options, ...flow } = await fx.webauthn.startRegistration(alice);
    const response = fx.authenticator().register(options);
    await fx.webauthn.finishRegistration(flow, response, { userId: 'alice' });
    await assert.rejects(fx.webauthn.finishRegistration(flow, response, { userId: 'alice' }), { code: 'webauthn_challenge_expired' });
    assert.equal(await passkeyCount(), 1);
  });

  it("refuses a credential finished without the starting browser's secret, stores nothing, and spends the flow", async () => {
    const alice = await fx.addUser('alice');
    const { options, ...flow } = await fx.webauthn.startRegistration(alice);
    const response = fx.authenticator().register(options);
    await assert.rejects(fx.webauthn.finishRegistration({ flowId: flow.flowId, browserSecret: undefined }, response, { userId: 'alice' }), { code: 'webauthn_other_browser' });
    await assert.rejects(fx.webauthn.finishRegistration(flow, response, { userId: 'alice' }), { code: 'webauthn_challenge_expired' });
    assert.equal(await passkeyCount(), 0);
  });

  it('refuses a flow finished after its challenge expired', async () => {
    const alice = await fx.addUser('alice');
    const { options, ...flow } = await fx.webauthn.startRegistration(alice);
    fx.clock.advanceMs(301_000);
    await assert.rejects(fx.webauthn.finishRegistration(flow, fx.authenticator().register(options), { userId: 'alice' }), { code: 'webauthn_challenge_expired' });
  });

  it('refuses to finish a registration with a login flow id', async () => {
    const alice = await fx.addUser('alice');
    const registration = await fx.webauthn.startRegistration(alice);
    const login = await fx.webauthn.startLogin();
    const response = fx.authenticator().register(registration.options);
    await assert.rejects(fx.webauthn.finishRegistration(login, response, { userId: 'alice' }), { code: 'webauthn_flow_mismatch' });
    assert.equal(await passkeyCount(), 0);
  });

  it('refuses to attach the passkey to another account than the flow was started for', async () => {
    const alice = await fx.addUser('alice');
    await fx.addUser('mallory');
    const { options, ...flow } = await fx.webauthn.startRegistration(alice);
    const response = fx.authenticator().register(options);
    await assert.rejects(fx.webauthn.finishRegistration(flow, response, { userId: 'mallory' }), { code: 'webauthn_flow_mismatch' });
    assert.equal(await passkeyCount(), 0);
  });

  it('refuses to start a registration for a disabled account', async () => {
    const bob = await fx.addUser('bob', { disabled: true });
    await assert.rejects(fx.webauthn.startRegistration(bob), { code: 'webauthn_account_disabled', status: 403 });
  });

  it('refuses to finish a registration for an account disabled meanwhile', async () => {
    const bob = await fx.addUser('bob');
    const { options, ...flow } = await fx.webauthn.startRegistration(bob);
    await fx.db.updateTable('users').set({ disabled: 1 }).where('id', '=', 'bob').execute();
    await assert.rejects(fx.webauthn.finishRegistration(flow, fx.authenticator().register(options), { userId: 'bob' }), { code: 'webauthn_account_disabled' });
    assert.equal(await passkeyCount(), 0);
  });

  it('refuses a credential id that is already registered to someone', async () => {
    const alice = await fx.addUser('alice');
    const bob = await fx.addUser('bob');
    const first = await fx.webauthn.startRegistration(alice);
    const original = await fx.webauthn.finishRegistration(first, fx.authenticator().register(first.options), { userId: 'alice' });
    const second = await fx.webauthn.startRegistration(bob);
    const colliding = fx.authenticator().register(second.options, { credentialId: original.id });
    await assert.rejects(fx.webauthn.finishRegistration(second, colliding, { userId: 'bob' }), { code: 'webauthn_passkey_exists', status: 409 });
    assert.equal((await fx.webauthn.listPasskeys('alice'))[0].publicKey, original.publicKey);
  });

  it('refuses malformed responses as invalid (missing fields, bad base64url, not JSON client data)', async () => {
    const alice = await fx.addUser('alice');
    const variants: Array<(valid: LooseResponse) => unknown> = [
      () => null,
      () => 'a string',
      (valid) => ({ ...valid, id: undefined }),
      (valid) => ({ ...valid, rawId: 'different' }),
      (valid) => ({ ...valid, type: 'password' }),
      (valid) => ({ ...valid, response: undefined }),
      (valid) => ({ ...valid, response: { ...valid.response, attestationObject: undefined } }),
      (valid) => ({ ...valid, response: { ...valid.response, attestationObject: '***not base64***' } }),
      (valid) => ({ ...valid, response: { ...valid.response, clientDataJSON: Buffer.from('{not json').toString('base64url') } }),
      (valid) => ({ ...valid, response: { ...valid.response, attestationObject: Buffer.from('not cbor').toString('base64url') } }),
      (valid) => ({ ...valid, response: { ...valid.response, transports: 'usb' } }),
    ];
    for (const breakIt of variants) {
      const { options, ...flow } = await fx.webauthn.startRegistration(alice);
      const valid = fx.authenticator().register(options) as unknown as LooseResponse;
      await assert.rejects(fx.webauthn.finishRegistration(flow, breakIt(valid), { userId: 'alice' }), { code: 'webauthn_invalid_response', status: 400 });
    }
    assert.equal(await passkeyCount(), 0);
  });

  it('refuses a passkey name longer than 64 characters without using up the flow', async () => {
    const alice = await fx.addUser('alice');
    const { options, ...flow } = await fx.webauthn.startRegistration(alice);
    const response = fx.authenticator().register(options);
    await assert.rejects(fx.webauthn.finishRegistration(flow, response, { userId: 'alice', name: 'x'.repeat(65) }), { code: 'webauthn_invalid_name' });
    const passkey = await fx.webauthn.finishRegistration(flow, response, { userId: 'alice', name: 'Phone' });
    assert.equal(passkey.name, 'Phone');
  });
});
