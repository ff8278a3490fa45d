// The browser's JSON (WebAuthn §5.1 RegistrationResponseJSON / AuthenticationResponseJSON) comes
// from the network, so its shape is checked before anything reads it: a missing field or bad
// base64url is the client's mistake (400), never a crash inside the library (500).
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { invalidResponse } from './errors.ts';
import { isJsonObject } from '../core/json-object.ts';

/** Unpadded base64url, as the browser's toJSON() writes it (a length of 4n+1 cannot be base64). */
const BASE64URL = /^[A-Za-z0-9_-]+$/;
export const isBase64url = (value: unknown): value is string =>
  typeof value === 'string' && BASE64URL.test(value) && value.length % 4 !== 1;

/** §7.1 step 25: credential IDs longer than 1023 bytes should fail the ceremony. */
const MAX_CREDENTIAL_ID_BYTES = 1023;


function requireCommonFields(value: unknown): Record<string, unknown> {
  if (!isJsonObject(value)) throw invalidResponse();
  const { id, rawId, type, response, clientExtensionResults } = value;
  if (!isBase64url(id) || rawId !== id || type !== 'public-key' || !isJsonObject(response)) throw invalidResponse();
  if (Buffer.from(id, 'base64url').length > MAX_CREDENTIAL_ID_BYTES) throw invalidResponse();
  if (clientExtensionResults !== undefined && !isJsonObject(clientExtensionResults)) throw invalidResponse();
  if (!isBase64url(response.clientDataJSON)) throw invalidResponse();
  // §7.1 step 5-6 / §7.2 step 8-9: clientDataJSON must be UTF-8 JSON describing an object.
  try {
    if (!isJsonObject(JSON.parse(Buffer.from(response.clientDataJSON, 'base64url').toString('utf8')))) throw invalidResponse();
  } catch (error) {
    throw invalidResponse({ cause: error });
  }
  return response;
}

export function assertRegistrationResponse(value: unknown): asserts value is RegistrationResponseJSON {
  const response = requireCommonFields(value);
  if (!isBase64url(response.attestationObject)) throw invalidResponse();
  const { transports } = response;
  if (transports !== undefined && !(Array.isArray(transports) && transports.every((item) => typeof item === 'string'))) {
    throw invalidResponse();
  }
}

export function assertAuthenticationResponse(value: unknown): asserts value is AuthenticationResponseJSON {
  const response = requireCommonFields(value);
  if (!isBase64url(response.authenticatorData) || !isBase64url(response.signature)) throw invalidResponse();
  if (response.userHandle !== undefined && response.userHandle !== null && !isBase64url(response.userHandle)) {
    throw invalidResponse();
  }
}
