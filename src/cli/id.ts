import { loadIdConfig } from '../config/id-config.ts';
import { createIdApp } from '../app/id-app.ts';
import { onShutdownSignal } from '../app/graceful-shutdown.ts';
import { parseCommandArgs, printHelp, usageError } from './args.ts';
import { announceFirstSignIn } from './first-sign-in.ts';

const HELP = `usage: latchkey id

Runs the identity provider (a drop-in for Pocket ID): passkey sign-in, users, OIDC.
Configured from the environment: APP_URL, TRUST_PROXY, PORT, HOST, DB_CONNECTION_STRING,
ENCRYPTION_KEY(_FILE), SESSION_DURATION, LOG_LEVEL … (docs/configuration-id.md).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {}, false);
  if (values.help) return printHelp(HELP);
  // A server has no result to print as JSON. Refused rather than ignored (as serve and proxy refuse
  // it), so a script that expected an answer is not left waiting on a server that started.
  if (values.json) throw usageError('--json: latchkey id runs a server and prints no result (its log is JSON lines when not on a terminal)');
  // the server makes the localhost key at its first start (admin commands only read it)
  const config = loadIdConfig({ env: process.env, createsKey: true });
  const id = await createIdApp(config);
  const log = id.app.log;
  for (const warning of config.warnings) log.warn(warning);
  const address = await id.listen();
  log.info({ address, appUrl: config.origin }, `latchkey id listening on ${address} for ${config.origin}`);
  await announceFirstSignIn(id.services, config.origin, log);
  await onShutdownSignal(() => id.close(), (message) => log.info(message));
  return 0;
}
