import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { SoftAlgorithm, SoftAuthenticator } from '../helpers/soft-authenticator.ts';
import { RP_ID, createWebauthnFixture, type WebauthnFixture } from '../helpers/webauthn-fixture.ts';
import { recordPasskeyUse } from '../../src/webauthn/passkey-store.ts';

/** A response as plain JSON, to break one field at a time. */
type LooseResponse = Record<string, unknown> & { response: Record<string, unknown> };

describe('usernameless passkey login', () => {
  let fx: WebauthnFixture;
  beforeEach(async () => { fx = await createWebauthnFixture(); });
  afterEach(async () => { await fx.close(); });

  /** A user with one registered passkey, held by the returned authenticator. */
  async function enrolled(userId = 'alice', algorithm: SoftAlgorithm = 'ES256'): Promise<{ authenticator: SoftAuthenticator; passkeyId: string }> {
    const registrant = await fx.addUser(userId);
    const authenticator = fx.authenticator({ algorithm });
    const { options, ...flow } = await fx.webauthn.startRegistration(registrant);
    const passkey = await fx.webauthn.finishRegistration(flow, authenticator.register(options), { userId });
    return { authenticator, passkeyId: passkey.id };
  }

  const storedPasskey = (id: string) => fx.db.selectFrom('passkeys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  for (const algorithm of ['ES256', 'EdDSA', 'RS256'] as const) {
    it(`signs in with a ${algorithm} passkey without asking for a username`, async () => {
      const { authenticator, passkeyId } = await enrolled('alice', algorithm);
      const { options, ...flow } = await fx.webauthn.startLogin();
      const result = await fx.webauthn.finishLogin(flow, authenticator.login(options));
      assert.deepEqual(result, { userId: 'alice', passkeyId });
    });
  }

  it('asks for user verification with an empty allow list for our RP ID', async () => {
    const { options } = await fx.webauthn.startLogin();
    assert.equal(options.rpId, RP_ID);
    assert.deepEqual(options.allowCredentials ?? [], []);
    assert.equal(options.userVerification, 'required');
  });

  it('records the new signature counter and when the passkey was used', async () => {
    const { authenticator, passkeyId } = await enrolled();
    fx.clock.advanceMs(5000);
    const { options, ...flow } = await fx.webauthn.startLogin();
    await fx.webauthn.finishLogin(flow, authenticator.login(options, { signCount: 7 }));
    const row = await storedPasskey(passkeyId);
    assert.equal(Number(row.sign_count), 7);
    assert.equal(Number(row.last_used_at), fx.clock.nowMs());
  });

  it('keeps accepting a passkey whose counter is always zero, as synced passkeys send', async () => {
    await fx.addUser('alice');
    const authenticator = fx.authenticator({ signCounter: 'zero' });
    const registration = await fx.webauthn.startRegistration({ userId: 'alice', username: 'alice', displayName: 'Alice' });
    await fx.webauthn.finishRegistration(registration, authenticator.register(registration.options), { userId: 'alice' });
    for (let i = 0; i < 2; i++) {
      const { options, ...flow } = await fx.webauthn.startLogin();
      assert.equal((await fx.webauthn.finishLogin(flow, authenticator.login(options))).userId, 'alice');
    }
  });

  it('refuses a counter that did not increase, as a possibly cloned authenticator, and keeps the stored counter', async () => {
    const { authenticator, passkeyId } = await enrolled();
    const first = await fx.webauthn.startLogin();
    await fx.webauthn.finishLogin(first, authenticator.login(first.options, { signCount: 5 }));
    const second = await fx.webauthn.startLogin();
    await assert.rejects(fx.webauthn.finishLogin(second, authenticator.login(second.options, { signCount: 5 })), { code: 'webauthn_counter_regressed' });
    assert.equal(Number((await storedPasskey(passkeyId)).sign_count), 5);
  });

  it('lets only one of two assertions with the same counter in when both are checked at once (a copied authenticator)', async () => {
    const { authenticator, passkeyId } = await enrolled();
    const first = await fx.webauthn.startLogin();
    const second = await fx.webauthn.startLogin();
    // The original and its copy both hold counter 5 and both sign 6; both are verified against
    // the stored 5 before either is recorded.
    const results = await Promise.allSettled([
      fx.webauthn.finishLogin(first, authenticator.login(first.options, { signCount: 6 })),
      fx.webauthn.finishLogin(second, authenticator.login(second.options, { signCount: 6 })),
    ]);
    assert.deepEqual(results.map((result) => result.status).sort(), ['fulfilled', 'rejected']);
    const refused = results.find((result) => result.status === 'rejected');
    assert.equal((refused?.reason as { code?: string }).code, 'webauthn_counter_regressed');
    assert.equal(Number((await storedPasskey(passkeyId)).sign_count), 6);
  });

  it('records a use only while the stored counter is below the new one, or both are zero', async () => {
    const { passkeyId } = await enrolled();
    const use = (signCount: number) => recordPasskeyUse(fx.db, passkeyId, { signCount, usedAtMs: fx.clock.nowMs(), backupState: false });
    assert.equal(Number((await storedPasskey(passkeyId)).sign_count), 0);
    assert.equal(await use(0), true, 'a passkey that keeps no counter');
    assert.equal(await use(3), true);
    assert.equal(await use(3), false, 'the same counter again');
    assert.equal(await use(2), false, 'a lower counter');
    assert.equal(await use(0), false, 'zero after a counter was seen');
    assert.equal(Number((await storedPasskey(passkeyId)).sign_count), 3);
    assert.equal(await recordPasskeyUse(fx.db, 'no-such-passkey', { signCount: 9, usedAtMs: 0, backupState: false }), false);
  });

  it('refuses an assertion made on another origin', async () => {
    const { authenticator } = await enrolled();
    const { options, ...flow } = await fx.webauthn.startLogin();
    await assert.rejects(fx.webauthn.finishLogin(flow, authenticator.login(options, { origin: 'https://evil.test' })), { code: 'webauthn_origin_mismatch', status: 400 });
  });

  it('refuses authenticator data for another RP ID', async () => {
    const { authenticator } = await enrolled();
    const { options, ...flow } = await fx.webauthn.startLogin();
    await assert.rejects(fx.webauthn.finishLogin(flow, authenticator.login(options, { rpIdForHash: 'example.com' })), { code: 'webauthn_rp_mismatch' });
  });

  it('refuses an assertion without user verification', async () => {
    const { authenticator } = await enrolled();
    const { options, ...flow } = await fx.webauthn.startLogin();
    await assert.rejects(fx.webauthn.finishLogin(flow, authenticator.login(options, { userVerified: false })), { code: 'webauthn_user_verification_missing' });
  });

  it('refuses an assertion signed over another challenge', async () => {
    const { authenticator } = await enrolled();
    const stale = await fx.webauthn.startLogin();
    const flow = await fx.webauthn.startLogin();
    await assert.rejects(fx.webauthn.finishLogin(flow, authenticator.login(stale.options)), { code: 'webauthn_challenge_mismatch' });
  });

  it('refuses a replayed assertion: the flow is gone after the first use', async () => {
    const { authenticator } = await enrolled();
    const { options, ...flow } = await fx.webauthn.startLogin();
    const response = authenticator.login(options);
    await fx.webauthn.finishLogin(flow, response);
    await assert.rejects(fx.webauthn.finishLogin(flow, response), { code: 'webauthn_challenge_expired' });
  });

  it("refuses a valid assertion finished without the starting browser's secret, or with another, and spends the flow", async () => {
    const { authenticator } = await enrolled();
    const elsewhere = await fx.webauthn.startLogin();
    for (const browserSecret of [undefined, '', elsewhere.browserSecret]) {
      const { options, ...flow } = await fx.webauthn.startLogin();
      const response = authenticator.login(options);
      await assert.rejects(fx.webauthn.finishLogin({ flowId: flow.flowId, browserSecret }, response), { code: 'webauthn_other_browser', status: 400 });
      await assert.rejects(fx.webauthn.finishLogin(flow, response), { code: 'webauthn_challenge_expired' });
    }
  });

  it('refuses an assertion after the challenge expired', async () => {
    const { authenticator } = await enrolled();
    const { options, ...flow } = await fx.webauthn.startLogin();
    fx.clock.advanceMs(300_001);
    await assert.rejects(fx.webauthn.finishLogin(flow, authenticator.login(options)), { code: 'webauthn_challenge_expired' });
  });

  it('refuses to finish a login with a registration flow id', async () => {
    const { authenticator } = await enrolled();
    const registration = await fx.webauthn.startRegistration({ userId: 'alice', username: 'alice', displayName: 'Alice' });
    const login = await fx.webauthn.startLogin();
    await assert.rejects(fx.webauthn.finishLogin(registration, authenticator.login(login.options)), { code: 'webauthn_flow_mismatch' });
  });

  it('refuses a passkey that is not registered here', async () => {
    await enrolled();
    const stranger = fx.authenticator();
    stranger.register({ rp: { id: RP_ID, name: 'x' }, user: { id: 'AAAA', name: 'x', displayName: 'x' }, challenge: 'AAAA', pubKeyCredParams: [{ type: 'public-key', alg: -7 }] });
    const { options, ...flow } = await fx.webauthn.startLogin();
    await assert.rejects(fx.webauthn.finishLogin(flow, stranger.login(options)), { code: 'webauthn_unknown_passkey' });
  });

  it("refuses a user handle that is not the passkey owner's", async () => {
    const { authenticator } = await enrolled('alice');
    await fx.addUser('bob');
    const { options, ...flow } = await fx.webauthn.startLogin();
    const response = authenticator.login(options, { userHandle: Buffer.from('bob').toString('base64url') });
    await assert.rejects(fx.webauthn.finishLogin(flow, response), { code: 'webauthn_user_handle_mismatch' });
  });

  it('refuses an assertion without a user handle, which a usernameless login needs', async () => {
    const { authenticator } = await enrolled();
    const { options, ...flow } = await fx.webauthn.startLogin();
    await assert.rejects(fx.webauthn.finishLogin(flow, authenticator.login(options, { userHandle: null })), { code: 'webauthn_invalid_response' });
  });

  it('refuses a forged signature', async () => {
    const { authenticator } = await enrolled();
    const { options, ...flow } = await fx.webauthn.startLogin();
    await assert.rejects(fx.webauthn.finishLogin(flow, authenticator.login(options, { tamperSignature: true })), { code: 'webauthn_invalid_response' });
  });

  it('refuses a disabled account and does not record the use', async () => {
    const { authenticator, passkeyId } = await enrolled('bob');
    await fx.db.updateTable('users').set({ disabled: 1 }).where('id', '=', 'bob').execute();
    const { options, ...flow } = await fx.webauthn.startLogin();
    await assert.rejects(fx.webauthn.finishLogin(flow, authenticator.login(options)), { code: 'webauthn_account_disabled', status: 403 });
    assert.equal((await storedPasskey(passkeyId)).last_used_at, null);
  });

  it('refuses malformed assertions as invalid', async () => {
    const { authenticator } = await enrolled();
    const variants: Array<(valid: LooseResponse) => unknown> = [
      () => ({}),
      (valid) => ({ ...valid, response: { ...valid.response, signature: undefined } }),
      (valid) => ({ ...valid, response: { ...valid.response, authenticatorData: 'a+b/c==' } }),
      (valid) => ({ ...valid, response: { ...valid.response, userHandle: 42 } }),
      (valid) => ({ ...valid, response: { ...valid.response, authenticatorData: Buffer.from('short').toString('base64url') } }),
    ];
    for (const breakIt of variants) {
      const { options, ...flow } = await fx.webauthn.startLogin();
      const valid = authenticator.login(options) as unknown as LooseResponse;
      await assert.rejects(fx.webauthn.finishLogin(flow, breakIt(valid)), { code: 'webauthn_invalid_response', status: 400 });
    }
  });

  it('never shows the library’s own error text to the user', async () => {
    const { authenticator } = await enrolled();
    const { options, ...flow } = await fx.webauthn.startLogin();
    const error = await fx.webauthn.finishLogin(flow, authenticator.login(options, { origin: 'https://evil.test' })).catch((e) => e);
    assert.doesNotMatch(error.message, /evil\.test|expected/i);
    assert.match(String(error.cause?.message), /evil\.test/);
  });

  it('works with flows kept in the database, and still refuses a replay there', async () => {
    const dbfx = await createWebauthnFixture({ store: 'database' });
    try {
      const alice = await dbfx.addUser('alice');
      const authenticator = dbfx.authenticator();
      const registration = await dbfx.webauthn.startRegistration(alice);
      await dbfx.webauthn.finishRegistration(registration, authenticator.register(registration.options), { userId: 'alice' });
      const { options, ...flow } = await dbfx.webauthn.startLogin();
      const response = authenticator.login(options);
      assert.equal((await dbfx.webauthn.finishLogin(flow, response)).userId, 'alice');
      await assert.rejects(dbfx.webauthn.finishLogin(flow, response), { code: 'webauthn_challenge_expired' });
    } finally {
      await dbfx.close();
    }
  });
});
