// The authentication ceremony (WebAuthn Level 3 §7.2), usernameless: the browser offers every
// discoverable passkey it holds for our RP ID, and the response tells us whose it is.
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { readAccountStatus } from './account-status.ts';
import { saveFlow, takeFlow, type ReturnedFlow, type StartedFlow } from './ceremony-flow.ts';
import { accountDisabled, counterRegressed, invalidResponse, unknownPasskey, userHandleMismatch } from './errors.ts';
import { fromLibraryError } from './library-error.ts';
import { simpleWebauthn } from './library.ts';
import { findPasskey, recordPasskeyUse } from './passkey-store.ts';
import { userHandleOf } from './registration.ts';
import { assertAuthenticationResponse } from './response-shape.ts';
import type { WebauthnSettings } from './settings.ts';

export interface PasskeyLogin {
  userId: string;
  passkeyId: string;
}

export async function startLogin(deps: WebauthnSettings): Promise<StartedFlow & { options: PublicKeyCredentialRequestOptionsJSON }> {
  const { generateAuthenticationOptions } = await simpleWebauthn();
  const options = await generateAuthenticationOptions({
    rpID: deps.rpId,
    // Empty: the user picks any passkey for this site, no username asked (§5.5 allowCredentials).
    allowCredentials: [],
    userVerification: 'required',
    timeout: deps.challengeTtlSeconds * 1000,
  });
  const flow = await saveFlow(deps.store, { purpose: 'login', challenge: options.challenge }, deps.challengeTtlSeconds);
  return { ...flow, options };
}

export async function finishLogin(deps: WebauthnSettings, returned: ReturnedFlow, response: unknown): Promise<PasskeyLogin> {
  const flow = await takeFlow(deps.store, returned, { purpose: 'login' });
  assertAuthenticationResponse(response);

  // §7.2 step 6: the user was not identified before the ceremony, so the credential names them:
  // it must be one of ours, and the userHandle must be present and belong to its owner.
  const passkey = await findPasskey(deps.db, response.id);
  if (!passkey) throw unknownPasskey();
  if (!response.response.userHandle) throw invalidResponse();
  const claimedHandle = Buffer.from(response.response.userHandle, 'base64url');
  if (!claimedHandle.equals(Buffer.from(userHandleOf(passkey.userId)))) throw userHandleMismatch();

  // §7.2 steps 7-22: client data (type, challenge, origin), RP ID hash, UP and UV flags, the
  // signature over authenticatorData ‖ SHA-256(clientDataJSON), and the signature counter. A counter
  // that does not increase while either value is non-zero is "a signal that the authenticator may
  // be cloned" (step 22); we fail the ceremony rather than let a possible copy in.
  const { verifyAuthenticationResponse } = await simpleWebauthn();
  let verification;
  try {
    verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: flow.challenge,
      expectedOrigin: deps.origin,
      expectedRPID: deps.rpId,
      credential: { id: passkey.id, publicKey: Buffer.from(passkey.publicKey, 'base64url'), counter: passkey.signCount, transports: passkey.transports },
      requireUserVerification: true,
    });
  } catch (error) {
    throw fromLibraryError(error);
  }
  if (!verification.verified) throw invalidResponse();

  // Checked after the signature, so only the passkey's holder learns that the account is disabled.
  const status = await readAccountStatus(deps.db, passkey.userId);
  if (status === 'missing') throw unknownPasskey();
  if (status === 'disabled') throw accountDisabled();

  // §7.2 step 22: remember the new counter and the current backup state.
  const info = verification.authenticationInfo;
  const recorded = await recordPasskeyUse(deps.db, passkey.id, { signCount: info.newCounter, usedAtMs: deps.clock.nowMs(), backupState: info.credentialBackedUp });
  if (!recorded) throw counterRegressed();
  return { userId: passkey.userId, passkeyId: passkey.id };
}
