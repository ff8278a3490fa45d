import { systemClock } from '../core/clock.ts';
import { badRequest } from '../core/errors.ts';
import { parseGoDurationMs } from '../core/duration.ts';
import { rotateSigningKey } from '../oidc/keys.ts';
import { parseCommandArgs, print } from './args.ts';
import { withIdContext } from './id-context.ts';

/**
 * Starts signing with a new key. The old key stays published in the JWKS for the overlap, so
 * tokens it signed keep verifying; running servers publish the new key within a minute and sign
 * with it two minutes after the rotation (src/oidc/keys.ts says why).
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { overlap: { type: 'string' } }, false);
  if (values.help) {
    console.log('usage: latchkey rotate-keys [--overlap 24h] [--json]\n\nMakes a new signing key current; the previous one stays published for the overlap (default 24h,\nlonger than any token lives) so already-issued tokens keep verifying. Running servers publish the new\nkey within a minute and sign with it two minutes after the rotation. --overlap 0 (a compromised\nkey) drops the old key at once and signs with the new one immediately.');
    return 0;
  }
  const overlapMs = parseGoDurationMs(values.overlap ?? '24h');
  if (overlapMs === null || overlapMs < 0) throw badRequest('invalid_arguments', '--overlap: use a duration such as 24h');
  return withIdContext(async ({ config, database, identity }) => {
    const result = await rotateSigningKey(database.db, systemClock, config.encryptionKey, { alg: config.signingAlg, overlapSeconds: Math.round(overlapMs / 1000) });
    await identity.audit.record({ event: 'signing_key_rotated', details: { ...result, via: 'cli' } });
    print(values.json, result, () => `New signing key ${result.kid} is current.${result.previousKid
      ? ` Running servers publish it within a minute and sign with it from two minutes after now; ${result.previousKid} signs until then and stays published for ${values.overlap ?? '24h'}.`
      : ''}`);
    return 0;
  });
}
