import { parseGoDurationMs } from '../core/duration.ts';
import { notFound } from '../core/errors.ts';
import { onePositional, parseCommandArgs, print, printHelp, usageError } from './args.ts';
import { withIdContext } from './id-context.ts';

export const signInLinkUrl = (appOrigin: string, token: string) => `${appOrigin}/lc/${token}`;

const HELP = `usage: latchkey one-time-link <username|email> [--expires 24h] [--json]

Prints a single-use link that signs the user in so they can register a new passkey
(for a new user, or to recover one who lost their passkeys). Only the newest link of a user
works: making one withdraws their earlier unused links. Refused for a disabled user.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { expires: { type: 'string' } });
  if (values.help) return printHelp(HELP);
  const login = onePositional(positionals, 'username or email', 'latchkey one-time-link <username|email> [--expires 24h]');
  const ttlMs = parseGoDurationMs(values.expires ?? '24h');
  if (ttlMs === null || ttlMs < 60_000 || ttlMs > 7 * 86_400_000) throw usageError('--expires: use a duration from 1m to 168h, e.g. 24h');
  return withIdContext(async ({ config, identity }) => {
    const user = await identity.users.findByLogin(login);
    if (!user) throw notFound(`A user "${login}"`);
    const { token, expiresAt } = await identity.links.issueSignIn(user.id, Math.round(ttlMs / 1000));
    await identity.audit.record({ event: 'one_time_link_created', userId: null, details: { targetUserId: user.id, via: 'cli' } });
    const url = signInLinkUrl(config.origin, token);
    print(values.json, { url, expiresAt: new Date(expiresAt).toISOString(), username: user.username }, () =>
      `One-time sign-in link for ${user.username} (valid until ${new Date(expiresAt).toISOString()}, works once):\n${url}`);
    return 0;
  });
}
