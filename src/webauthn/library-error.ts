// SimpleWebAuthn reports a failed check by throwing a plain Error whose message names the check.
// We read that message only to pick our own error; the library's text never leaves the server
// (it rides along as `cause`, which the error handler logs).
import type { AppError } from '../core/errors.ts';
import {
  challengeMismatch, counterRegressed, invalidResponse, originMismatch, rpMismatch, userVerificationMissing,
} from './errors.ts';

// Anchored to the start of the library's wording (v14), because the rest of a message can echo
// values from the client.
const RULES: ReadonlyArray<readonly [RegExp, (options: { cause: unknown }) => AppError]> = [
  // §7.1 step 8 / §7.2 step 11: the response was made for another challenge.
  [/^Unexpected (registration|authentication) response challenge/, challengeMismatch],
  // §7.1 step 9 / §7.2 step 12, and the iframe checks on topOrigin (§7.1 step 11 / §7.2 step 14).
  [/^(Unexpected (registration|authentication) response origin|Unexpected (cross-origin authentication response )?top origin|Detected cross-origin)/, originMismatch],
  // §7.1 step 14 / §7.2 step 15 (thrown as an error named UnexpectedRPIDHash).
  [/^Unexpected RP ID hash/, rpMismatch],
  // §7.1 step 16 / §7.2 step 17.
  [/^User verification (was )?required/, userVerificationMissing],
  // §7.2 step 22.
  [/^Response counter value/, counterRegressed],
];

export function fromLibraryError(error: unknown): AppError {
  const text = error instanceof Error ? error.message : '';
  for (const [pattern, make] of RULES) if (pattern.test(text)) return make({ cause: error });
  return invalidResponse({ cause: error });
}
