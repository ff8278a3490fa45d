import { parseCommandArgs, print, printHelp } from './args.ts';
import { withIdContext } from './id-context.ts';

export const setupUrl = (appOrigin: string, token: string) => `${appOrigin}/setup?token=${token}`;

const HELP = `usage: latchkey setup-link [--json]

Prints a new one-time link that creates the first admin (older unused links stop working).
Refused once setup is complete; use \`latchkey one-time-link <user>\` to recover an account.

  --json   print {"url", "expiresAt"}`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {}, false);
  if (values.help) return printHelp(HELP);
  return withIdContext(async ({ config, identity }) => {
    const { token, expiresAt } = await identity.setup.issueLink();
    const url = setupUrl(config.origin, token);
    print(values.json, { url, expiresAt: new Date(expiresAt).toISOString() }, () => `Open this link to create the first admin (valid until ${new Date(expiresAt).toISOString()}):\n${url}`);
    return 0;
  });
}
