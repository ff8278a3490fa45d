// Every way a passkey ceremony can fail, as an AppError with a message a person can act on.
// The library's own error, when there is one, travels only as `cause` (it is logged, never shown).
import { AppError } from '../core/errors.ts';

type Cause = { cause?: unknown };

export const challengeExpired = (options?: Cause) =>
  new AppError('webauthn_challenge_expired', 400, 'This passkey request expired or was already used. Please start again.', options);

/**
 * The flow was started in another browser: its cookie is missing or holds another value. Seldom an
 * attack, mostly cookies cleared or blocked mid-ceremony; either way, starting again fixes it.
 */
export const otherBrowser = () =>
  new AppError('webauthn_other_browser', 400, 'This passkey request was not started in this browser, or its cookie was removed. Please start again.');

/** A flow id used for the other ceremony, or a registration finished for another account than it started for. */
export const flowMismatch = () =>
  new AppError('webauthn_flow_mismatch', 400, 'This passkey request does not match what you are doing. Please start again.');

export const challengeMismatch = (options?: Cause) =>
  new AppError('webauthn_challenge_mismatch', 400, 'The passkey answered a different request. Please start again.', options);

export const unknownPasskey = () =>
  new AppError('webauthn_unknown_passkey', 400, 'This passkey is not registered here. It may have been removed; try another passkey or ask an administrator for a sign-in link.');

export const originMismatch = (options?: Cause) =>
  new AppError('webauthn_origin_mismatch', 400, 'The passkey was used from a different web address than this site. Please open this site at its usual address and try again.', options);

export const rpMismatch = (options?: Cause) =>
  new AppError('webauthn_rp_mismatch', 400, 'The passkey answered for a different site. Please use a passkey made for this site.', options);

export const userVerificationMissing = (options?: Cause) =>
  new AppError('webauthn_user_verification_missing', 400, 'Your device did not confirm it was you (PIN, fingerprint or face). Please try again and complete the check.', options);

export const userHandleMismatch = () =>
  new AppError('webauthn_user_handle_mismatch', 400, 'This passkey does not belong to the account it claims. Please try another passkey.');

export const counterRegressed = (options?: Cause) =>
  new AppError('webauthn_counter_regressed', 400, 'This passkey reported an unexpected usage count, which can mean it was copied. Sign-in was refused; please contact an administrator.', options);

export const accountDisabled = () =>
  new AppError('webauthn_account_disabled', 403, 'This account is disabled. Please contact an administrator.');

export const unknownAccount = () =>
  new AppError('webauthn_unknown_account', 400, 'This account no longer exists. Please ask an administrator for a new link.');

export const passkeyAlreadyRegistered = () =>
  new AppError('webauthn_passkey_exists', 409, 'This passkey is already registered.');

export const invalidResponse = (options?: Cause) =>
  new AppError('webauthn_invalid_response', 400, 'The passkey response could not be verified. Please try again.', options);

export const invalidPasskeyName = () =>
  new AppError('webauthn_invalid_name', 400, 'A passkey name needs 1 to 64 characters.');

export const passkeyNotFound = () =>
  new AppError('webauthn_passkey_not_found', 404, 'This passkey was not found.');

/** Over PASSKEY_SIGN_IN_STARTS_PER_MINUTE from this address (login-rate-limit.ts); the route sets Retry-After. */
export const tooManySignInStarts = () =>
  new AppError('too_many_requests', 429, 'Too many sign-ins were started from your network in the last minute. Wait a minute, then try again.');
