import { systemClock } from '../core/clock.ts';
import { parseGoDurationMs } from '../core/duration.ts';
import { rotateSigningKey } from '../oidc/keys.ts';
import { parseCommandArgs, print, printHelp, usageError } from './args.ts';
import { withIdContext } from './id-context.ts';

const HELP = `usage: latchkey rotate-keys [--overlap 24h] [--json]

Makes a new signing key current; the previous one stays published for the overlap (default 24h;
make it longer than any token lives, plus two minutes) so already-issued tokens keep verifying.
Running servers publish the new key within a minute and sign with it two minutes after the
rotation. --overlap 0 (a compromised key) drops the old key at once and signs with the new one
immediately; any other overlap must be at least 5m.`;

const MIN_OVERLAP_MS = 5 * 60_000;

/**
 * Starts signing with a new key. The old key stays published in the JWKS for the overlap, so
 * tokens it signed keep verifying; running servers publish the new key within a minute and sign
 * with it two minutes after the rotation (src/oidc/keys.ts says why).
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { overlap: { type: 'string' } }, false);
  if (values.help) return printHelp(HELP);
  const overlapMs = parseGoDurationMs(values.overlap ?? '24h');
  if (overlapMs === null || overlapMs < 0) throw usageError('--overlap: use a duration such as 24h');
  // The old key signs for up to two minutes after the rotation (publish first, sign later), so a
  // shorter overlap would drop it from one server's JWKS while another still signs with it.
  if (overlapMs > 0 && overlapMs < MIN_OVERLAP_MS) throw usageError('--overlap: use 0 (a compromised key: drop it at once) or at least 5m; the old key still signs for up to two minutes after the rotation');
  return withIdContext(async ({ config, database, identity }) => {
    const result = await rotateSigningKey(database.db, systemClock, config.encryptionKey, { alg: config.signingAlg, overlapSeconds: Math.round(overlapMs / 1000) });
    await identity.audit.record({ event: 'signing_key_rotated', details: { ...result, via: 'cli' } });
    print(values.json, result, () => `New signing key ${result.kid} is current.${result.previousKid
      ? ` Running servers publish it within a minute and sign with it from two minutes after now; ${result.previousKid} signs until then and stays published for ${values.overlap ?? '24h'}.`
      : ''}`);
    return 0;
  });
}
