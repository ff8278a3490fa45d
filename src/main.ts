// The command-line entry point, and the only file that calls process.exit. Each command lives in
// src/cli/ and is loaded on demand, so `latchkey proxy` never loads the identity provider.
import { ConfigError } from './config/problems.ts';
import { isAppError } from './core/errors.ts';

type CommandModule = { run(argv: string[]): Promise<number | void> };

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  serve: { summary: 'run identity provider, proxy and static site in one process', load: () => import('./cli/serve.ts') },
  id: { summary: 'run the identity provider (a drop-in for Pocket ID)', load: () => import('./cli/id.ts') },
  proxy: { summary: 'run the forward-auth proxy (a drop-in for oauth2-proxy)', load: () => import('./cli/proxy.ts') },
  'setup-link': { summary: 'print the one-time link that creates the first admin', load: () => import('./cli/setup-link.ts') },
  'one-time-link': { summary: 'print a one-time sign-in link for a user (recovery)', load: () => import('./cli/one-time-link.ts') },
  user: { summary: 'add, list, change and remove users', load: () => import('./cli/user.ts') },
  client: { summary: 'add, list and remove OIDC clients', load: () => import('./cli/client.ts') },
  'api-key': { summary: 'create and revoke admin API keys', load: () => import('./cli/api-key.ts') },
  'rotate-keys': { summary: 'start signing with a new key; the old one stays published for a while', load: () => import('./cli/rotate-keys.ts') },
  generate: { summary: 'print nginx, Caddy, compose or systemd files for your deployment', load: () => import('./cli/generate.ts') },
  doctor: { summary: 'check a deployment for the known failure modes and say how to fix each', load: () => import('./cli/doctor.ts') },
  backup: { summary: 'write a consistent backup of the database and keys', load: () => import('./cli/backup.ts') },
  restore: { summary: 'restore a backup after verifying it', load: () => import('./cli/restore.ts') },
  healthcheck: { summary: 'exit 0 when the local server answers /healthz (for containers)', load: () => import('./cli/healthcheck.ts') },
  version: { summary: 'print the version', load: () => import('./cli/version.ts') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return ['usage: latchkey <command> [options]', '', ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`), '', 'latchkey <command> --help shows its options.'].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [given, ...rest] = argv;
  // oauth2-proxy's and most tools' spelling of `latchkey version`
  const name = given === '--version' ? 'version' : given;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  // Usage shown because the command line was wrong goes with the error: stderr, exit 2.
  if (!name) {
    console.error(usage());
    return 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`latchkey: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const module = await command.load();
    return (await module.run(rest)) ?? 0;
  } catch (error) {
    // Exit 2: the command was called wrongly (bad configuration, flags or arguments); 1: it failed.
    if (error instanceof ConfigError || (isAppError(error) && error.code === 'invalid_arguments')) {
      console.error(`latchkey ${name}: ${error.message}`);
      return 2;
    }
    // An AppError's message is written for the reader; a stack trace only helps when a library
    // error lies under it (e.g. a wrong ENCRYPTION_KEY printed "failed AppError: … at file:…").
    if (isAppError(error) && (error.status < 500 || error.cause === undefined)) {
      console.error(`latchkey ${name}: ${error.message}`);
      return 1;
    }
    console.error(`latchkey ${name}: failed`, error);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
