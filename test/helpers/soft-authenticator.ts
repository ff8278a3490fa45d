// A software passkey authenticator (and the browser's part of the ceremony) built on node:crypto,
// written from WebAuthn Level 3: it answers real creation and request options with real
// attestation ('none') and assertion responses, so the server's verification runs unchanged.
// Knobs break one thing at a time, to prove each server-side check.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { encodeCbor } from './cbor-encode.ts';

export type SoftAlgorithm = 'ES256' | 'EdDSA' | 'RS256';

/** COSE algorithm identifiers (RFC 9053 §2.1, RFC 8812 §2). */
export const COSE_ALGORITHM: Readonly<Record<SoftAlgorithm, number>> = { ES256: -7, EdDSA: -8, RS256: -257 };

export interface SoftAuthenticatorOptions {
  /** The origin the "browser" is on, written into clientDataJSON. */
  origin: string;
  /** The RP ID used when the options do not name one. */
  rpId: string;
  algorithm?: SoftAlgorithm;
  /** Authenticator Attestation GUID; all zeros by default, as many platform authenticators send. */
  aaguid?: string;
  /** BE and BS flags (WebAuthn §6.1): a synced passkey is eligible and backed up. */
  backupEligible?: boolean;
  backedUp?: boolean;
  /** 'increasing' adds one per assertion (as security keys do); 'zero' always sends 0 (as synced passkeys do). */
  signCounter?: 'increasing' | 'zero';
}

/** Each knob breaks one thing; without knobs the responses are valid. */
export interface CeremonyKnobs {
  /** clientDataJSON.origin (WebAuthn §7.1 step 9 / §7.2 step 13). */
  origin?: string;
  /** Hash this RP ID into authenticatorData instead of the real one (§7.1 step 13 / §7.2 step 15). */
  rpIdForHash?: string;
  /** Sign this challenge (base64url) instead of the one in the options (§7.1 step 8 / §7.2 step 12). */
  challenge?: string;
  /** clientDataJSON.type, e.g. 'webauthn.get' in a registration (§7.1 step 7). */
  type?: string;
  /** The UV flag; true by default (§7.1 step 15 / §7.2 step 17). */
  userVerified?: boolean;
  /** The UP flag; true by default. */
  userPresent?: boolean;
  /** The signature counter to report, instead of the authenticator's own. */
  signCount?: number;
}

export interface RegistrationKnobs extends CeremonyKnobs {
  /** Give the new credential this id (base64url) instead of a random one, as a colliding or hijacking authenticator would. */
  credentialId?: string;
}

export interface LoginKnobs extends CeremonyKnobs {
  /** The userHandle to return (base64url); null leaves it out. Default: the handle stored at registration. */
  userHandle?: string | null;
  /** Which held credential to use; default the newest discoverable one for the RP ID. */
  credentialId?: string;
  /** Corrupt the signature after signing. */
  tamperSignature?: boolean;
}

export interface ExportedCredential {
  id: string;
  rpId: string;
  userHandle: string;
  algorithm: SoftAlgorithm;
  signCount: number;
  privateKeyPkcs8: string;
}

interface HeldCredential {
  id: Buffer;
  rpId: string;
  userHandle: Buffer;
  privateKey: KeyObject;
  algorithm: SoftAlgorithm;
  signCount: number;
}

// Authenticator data flags (WebAuthn §6.1).
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

const sha256 = (data: string | Buffer): Buffer => createHash('sha256').update(data).digest();
const b64u = (data: Buffer): string => data.toString('base64url');

function generateKeyPair(algorithm: SoftAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  if (algorithm === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  if (algorithm === 'EdDSA') return generateKeyPairSync('ed25519');
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** The credential public key as a COSE_Key (RFC 9052 §7, RFC 9053 §7.1/§7.2, RFC 8230 §4). */
function coseKey(publicKey: KeyObject, algorithm: SoftAlgorithm): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  const bytes = (value: string | undefined) => Buffer.from(value ?? '', 'base64url');
  const alg = COSE_ALGORITHM[algorithm];
  // Labels: 1 kty, 3 alg, -1 crv (or n), -2 x (or e), -3 y.
  if (algorithm === 'ES256') return encodeCbor(new Map<number, number | Buffer>([[1, 2], [3, alg], [-1, 1], [-2, bytes(jwk.x)], [-3, bytes(jwk.y)]]));
  if (algorithm === 'EdDSA') return encodeCbor(new Map<number, number | Buffer>([[1, 1], [3, alg], [-1, 6], [-2, bytes(jwk.x)]]));
  return encodeCbor(new Map<number, number | Buffer>([[1, 3], [3, alg], [-1, bytes(jwk.n)], [-2, bytes(jwk.e)]]));
}

/** ES256 signatures are ASN.1 DER (WebAuthn §6.5.5); EdDSA takes no digest; RS256 is PKCS#1 v1.5. */
function signWith(credential: HeldCredential, data: Buffer): Buffer {
  if (credential.algorithm === 'EdDSA') return sign(null, data, credential.privateKey);
  return sign('sha256', data, { key: credential.privateKey, dsaEncoding: 'der' });
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
}

export function createSoftAuthenticator(options: SoftAuthenticatorOptions) {
  const algorithm = options.algorithm ?? 'ES256';
  const aaguid = Buffer.from((options.aaguid ?? '00000000-0000-0000-0000-000000000000').replace(/-/g, ''), 'hex');
  const backupEligible = options.backupEligible ?? true;
  const backedUp = options.backedUp ?? backupEligible;
  const credentials: HeldCredential[] = [];

  function flags(knobs: CeremonyKnobs, attested: boolean): number {
    let value = 0;
    if (knobs.userPresent ?? true) value |= FLAG_UP;
    if (knobs.userVerified ?? true) value |= FLAG_UV;
    if (backupEligible) value |= FLAG_BE;
    if (backedUp) value |= FLAG_BS;
    if (attested) value |= FLAG_AT;
    return value;
  }

  /** CollectedClientData (WebAuthn §5.8.1), serialized as the client does (§5.8.1.1). */
  function clientData(type: string, challenge: string, knobs: CeremonyKnobs): Buffer {
    return Buffer.from(JSON.stringify({
      type: knobs.type ?? type,
      challenge: knobs.challenge ?? challenge,
      origin: knobs.origin ?? options.origin,
      crossOrigin: false,
    }));
  }

  return {
    algorithm,

    /** navigator.credentials.create(): authenticatorMakeCredential (WebAuthn §6.3.2), attestation 'none'. */
    register(creation: PublicKeyCredentialCreationOptionsJSON, knobs: RegistrationKnobs = {}): RegistrationResponseJSON {
      const rpId = creation.rp.id ?? options.rpId;
      const alg = COSE_ALGORITHM[algorithm];
      if (!creation.pubKeyCredParams.some((param) => param.alg === alg)) {
        throw new Error(`NotSupportedError: the options do not offer ${algorithm}`);
      }
      // §6.3.2 step 3: an authenticator that holds an excluded credential refuses to make another.
      const excluded = new Set((creation.excludeCredentials ?? []).map((descriptor) => descriptor.id));
      if (credentials.some((held) => held.rpId === rpId && excluded.has(b64u(held.id)))) {
        throw new Error('InvalidStateError: this authenticator already holds an excluded credential');
      }
      const { privateKey, publicKey } = generateKeyPair(algorithm);
      const credential: HeldCredential = {
        id: knobs.credentialId ? Buffer.from(knobs.credentialId, 'base64url') : randomBytes(32),
        rpId,
        userHandle: Buffer.from(creation.user.id, 'base64url'),
        privateKey,
        algorithm,
        signCount: knobs.signCount ?? 0,
      };
      credentials.push(credential);

      // Attested credential data (§6.5.1): aaguid ‖ credentialIdLength (2 bytes) ‖ credentialId ‖ COSE key.
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(credential.id.length);
      const attestedCredentialData = Buffer.concat([aaguid, idLength, credential.id, coseKey(publicKey, algorithm)]);
      // Authenticator data (§6.1): rpIdHash ‖ flags ‖ signCount ‖ attestedCredentialData.
      const authenticatorData = Buffer.concat([
        sha256(knobs.rpIdForHash ?? rpId), Buffer.from([flags(knobs, true)]), u32(credential.signCount), attestedCredentialData,
      ]);
      // §8.7 None attestation: fmt "none" and an empty attStmt.
      const attestationObject = encodeCbor(new Map<string, string | Buffer | Map<string, string>>([
        ['fmt', 'none'], ['attStmt', new Map()], ['authData', authenticatorData],
      ]));
      const id = b64u(credential.id);
      return {
        id,
        rawId: id,
        type: 'public-key',
        authenticatorAttachment: 'platform',
        clientExtensionResults: { credProps: { rk: true } },
        response: {
          clientDataJSON: b64u(clientData('webauthn.create', creation.challenge, knobs)),
          attestationObject: b64u(attestationObject),
          authenticatorData: b64u(authenticatorData),
          transports: ['internal', 'hybrid'],
          publicKeyAlgorithm: alg,
          publicKey: b64u(publicKey.export({ format: 'der', type: 'spki' })),
        },
      };
    },

    /** navigator.credentials.get(): authenticatorGetAssertion (WebAuthn §6.3.3). */
    login(request: PublicKeyCredentialRequestOptionsJSON, knobs: LoginKnobs = {}): AuthenticationResponseJSON {
      const rpId = request.rpId ?? options.rpId;
      const allowed = new Set((request.allowCredentials ?? []).map((descriptor) => descriptor.id));
      // §6.3.3: with an empty allow list, any discoverable credential for the RP ID qualifies.
      const candidates = credentials.filter((held) => held.rpId === rpId && (allowed.size === 0 || allowed.has(b64u(held.id))));
      const credential = knobs.credentialId
        ? candidates.find((held) => b64u(held.id) === knobs.credentialId)
        : candidates.at(-1);
      if (!credential) throw new Error('NotAllowedError: no matching credential on this authenticator');

      if (knobs.signCount !== undefined) credential.signCount = knobs.signCount;
      else if ((options.signCounter ?? 'increasing') === 'increasing') credential.signCount += 1;

      const authenticatorData = Buffer.concat([
        sha256(knobs.rpIdForHash ?? rpId), Buffer.from([flags(knobs, false)]), u32(credential.signCount),
      ]);
      const clientDataJSON = clientData('webauthn.get', request.challenge, knobs);
      // §6.3.3: the assertion signature covers authenticatorData ‖ SHA-256(clientDataJSON).
      const signature = signWith(credential, Buffer.concat([authenticatorData, sha256(clientDataJSON)]));
      if (knobs.tamperSignature) signature[signature.length - 1] ^= 0xff;
      const userHandle = knobs.userHandle === undefined ? b64u(credential.userHandle) : knobs.userHandle;
      const id = b64u(credential.id);
      return {
        id,
        rawId: id,
        type: 'public-key',
        authenticatorAttachment: 'platform',
        clientExtensionResults: {},
        response: {
          clientDataJSON: b64u(clientDataJSON),
          authenticatorData: b64u(authenticatorData),
          signature: b64u(signature),
          ...(userHandle === null ? {} : { userHandle }),
        },
      };
    },

    /** The held credentials with their private keys (PKCS#8, base64url), to keep in a fixture. */
    exportCredentials(): ExportedCredential[] {
      return credentials.map((held) => ({
        id: b64u(held.id), rpId: held.rpId, userHandle: b64u(held.userHandle), algorithm: held.algorithm, signCount: held.signCount,
        privateKeyPkcs8: b64u(held.privateKey.export({ format: 'der', type: 'pkcs8' })),
      }));
    },

    /** Holds a credential exported earlier (a fixture's), as a passkey synced to another device. */
    importCredential(exported: ExportedCredential): void {
      credentials.push({
        id: Buffer.from(exported.id, 'base64url'), rpId: exported.rpId, userHandle: Buffer.from(exported.userHandle, 'base64url'),
        algorithm: exported.algorithm, signCount: exported.signCount,
        privateKey: createPrivateKey({ key: Buffer.from(exported.privateKeyPkcs8, 'base64url'), format: 'der', type: 'pkcs8' }),
      });
    },

    /** The ids (base64url) of the credentials this authenticator holds, oldest first. */
    credentialIds(): string[] {
      return credentials.map((held) => b64u(held.id));
    },
  };
}

export type SoftAuthenticator = ReturnType<typeof createSoftAuthenticator>;
