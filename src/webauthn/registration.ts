// The registration ceremony (WebAuthn Level 3 §7.1): options for navigator.credentials.create(),
// then verification of the new credential and its storage as a passkey of the account.
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import type { Db } from '../storage/database.ts';
import { readAccountStatus } from './account-status.ts';
import { saveFlow, takeFlow, type ReturnedFlow, type StartedFlow } from './ceremony-flow.ts';
import { accountDisabled, invalidPasskeyName, invalidResponse, passkeyAlreadyRegistered, unknownAccount } from './errors.ts';
import { fromLibraryError } from './library-error.ts';
import { simpleWebauthn } from './library.ts';
import { addPasskey, findPasskey, listPasskeysByUser, type Passkey } from './passkey-store.ts';
import { assertRegistrationResponse } from './response-shape.ts';
import type { WebauthnSettings } from './settings.ts';

/** EdDSA, ES256, RS256 (COSE, RFC 9053 / RFC 8812): what passkey providers and security keys make. */
export const SUPPORTED_ALGORITHM_IDS: readonly number[] = [-8, -7, -257];

export interface Registrant {
  userId: string;
  username: string;
  displayName: string;
}

/** §5.4.3: the user handle is at most 64 bytes; ours is the user id in UTF-8 (no personal data, §14.6.1). */
export const userHandleOf = (userId: string): Uint8Array<ArrayBuffer> => {
  const bytes = new TextEncoder().encode(userId);
  if (bytes.length === 0 || bytes.length > 64) throw new Error('a WebAuthn user handle must be 1 to 64 bytes');
  return bytes;
};

const MAX_NAME_LENGTH = 64;

/** Trimmed, 1-64 characters, no control characters; blank means "choose a default". */
export function normalizePasskeyName(name: string | undefined): string | null {
  const trimmed = (name ?? '').trim();
  if (trimmed === '') return null;
  if ([...trimmed].length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(trimmed)) throw invalidPasskeyName();
  return trimmed;
}

/** "Passkey 1", "Passkey 2", …: the first number not already taken by this user's passkeys. */
function defaultName(existing: readonly Passkey[]): string {
  const taken = new Set(existing.map((passkey) => passkey.name));
  let number = existing.length + 1;
  while (taken.has(`Passkey ${number}`)) number++;
  return `Passkey ${number}`;
}

async function requireActiveAccount(db: Db, userId: string): Promise<void> {
  const status = await readAccountStatus(db, userId);
  if (status === 'missing') throw unknownAccount();
  if (status === 'disabled') throw accountDisabled();
}

export async function startRegistration(deps: WebauthnSettings, registrant: Registrant): Promise<StartedFlow & { options: PublicKeyCredentialCreationOptionsJSON }> {
  await requireActiveAccount(deps.db, registrant.userId);
  const existing = await listPasskeysByUser(deps.db, registrant.userId);
  const { generateRegistrationOptions } = await simpleWebauthn();
  const options = await generateRegistrationOptions({
    rpName: deps.rpName,
    rpID: deps.rpId,
    userID: userHandleOf(registrant.userId),
    userName: registrant.username,
    userDisplayName: registrant.displayName,
    timeout: deps.challengeTtlSeconds * 1000,
    attestationType: 'none',
    // An authenticator that already holds one of these refuses to make another (§5.4, §6.3.2 step 3).
    excludeCredentials: existing.map((passkey) => ({ id: passkey.id, transports: passkey.transports })),
    // Discoverable credentials make usernameless sign-in possible; UV makes the passkey a full login (§5.4.4).
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    supportedAlgorithmIDs: [...SUPPORTED_ALGORITHM_IDS],
  });
  const flow = await saveFlow(deps.store, { purpose: 'registration', challenge: options.challenge, userId: registrant.userId }, deps.challengeTtlSeconds);
  return { ...flow, options };
}

export async function finishRegistration(
  deps: WebauthnSettings,
  returned: ReturnedFlow,
  response: unknown,
  input: { userId: string; name?: string },
): Promise<Passkey> {
  const chosenName = normalizePasskeyName(input.name);
  const flow = await takeFlow(deps.store, returned, { purpose: 'registration', userId: input.userId });
  assertRegistrationResponse(response);

  // §7.1 steps 5-24: client data, RP ID hash, UP/UV flags, algorithm and the 'none' attestation.
  const { verifyRegistrationResponse } = await simpleWebauthn();
  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: flow.challenge,
      expectedOrigin: deps.origin,
      expectedRPID: deps.rpId,
      requireUserVerification: true,
      supportedAlgorithmIDs: [...SUPPORTED_ALGORITHM_IDS],
    });
  } catch (error) {
    throw fromLibraryError(error);
  }
  if (!verification.verified) throw invalidResponse();
  const info = verification.registrationInfo;

  // The account may have been disabled while the browser was busy.
  await requireActiveAccount(deps.db, input.userId);
  // §7.1 step 26: a credential ID already registered (to anyone) fails the ceremony.
  if (await findPasskey(deps.db, info.credential.id)) throw passkeyAlreadyRegistered();

  const existing = await listPasskeysByUser(deps.db, input.userId);
  try {
    return await addPasskey(deps.db, {
      id: info.credential.id,
      userId: input.userId,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      signCount: info.credential.counter,
      transports: response.response.transports ?? [],
      name: chosenName ?? defaultName(existing),
      aaguid: info.aaguid,
      backupEligible: info.credentialDeviceType === 'multiDevice',
      backupState: info.credentialBackedUp,
      createdAtMs: deps.clock.nowMs(),
    });
  } catch (error) {
    // Two finishes racing with the same credential: the primary key lets only one in.
    if (await findPasskey(deps.db, info.credential.id)) throw passkeyAlreadyRegistered();
    throw error;
  }
}
