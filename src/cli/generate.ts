// `latchkey generate TARGET [flags]`: prints a deployment file to stdout, so it can be reviewed,
// diffed against the running one, and redirected into place.
import { ConfigError } from '../config/problems.ts';
import { generateCaddyfile } from '../deploy/caddyfile.ts';
import { generateComposeFile } from '../deploy/compose-file.ts';
import { generateNginxConfig } from '../deploy/nginx-config.ts';
import { generateNginxPublicConfig } from '../deploy/nginx-public-config.ts';
import { generateNginxSingleConfig } from '../deploy/nginx-single-config.ts';
import { PLAN_FLAGS, planFromArgs, type DeploymentPlan } from '../deploy/plan.ts';
import { generateSystemdUnits } from '../deploy/systemd-units.ts';
import { printHelp, usageError } from './args.ts';

const TARGETS: Record<string, { summary: string; generate: (plan: DeploymentPlan) => string }> = {
  nginx: {
    summary: 'nginx server blocks: TLS, auth_request for protected prefixes, the id host (--public: rollback without auth; --single: in front of latchkey serve)',
    generate: (plan) => (plan.public ? generateNginxPublicConfig(plan) : plan.single ? generateNginxSingleConfig(plan) : generateNginxConfig(plan)),
  },
  caddy: { summary: 'a Caddyfile doing the same with forward_auth', generate: generateCaddyfile },
  compose: { summary: 'docker compose for latchkey id + latchkey proxy (--single: one latchkey serve)', generate: generateComposeFile },
  systemd: { summary: 'hardened systemd units for latchkey id + latchkey proxy (--single: latchkey serve)', generate: generateSystemdUnits },
};

export function generateHelp(): string {
  const targetWidth = Math.max(...Object.keys(TARGETS).map((t) => t.length));
  const flagWidth = Math.max(...Object.keys(PLAN_FLAGS).map((f) => f.length)) + 6;
  return [
    'usage: latchkey generate <target> [flags] > FILE',
    '',
    'targets:',
    ...Object.entries(TARGETS).map(([name, t]) => `  ${name.padEnd(targetWidth)}  ${t.summary}`),
    '',
    'flags (--flag VALUE or --flag=VALUE):',
    ...Object.entries(PLAN_FLAGS).map(([flag, spec]) => `  ${(spec.takesValue ? `${flag} X` : flag).padEnd(flagWidth)}  ${spec.help}`),
    '',
    'Example: latchkey generate nginx --site-host agents.example.com --id-host id.example.com \\',
    '           --protect /private/ --protect /private/family/=family > /etc/nginx/sites-available/latchkey',
    'docs/reverse-proxies.md explains every choice in the generated files.',
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') return printHelp(generateHelp());
  // Help shown because the target is missing goes with the error: stderr, exit 2.
  if (argv.length === 0) throw usageError(`name a target\n\n${generateHelp()}`);
  const [targetName, ...flags] = argv;
  const target = TARGETS[targetName];
  if (!target) {
    const problems = [`"${targetName}" is not a target; choose one of: ${Object.keys(TARGETS).join(', ')}`];
    try {
      planFromArgs(flags); // report bad flags in the same breath
    } catch (error) {
      if (error instanceof ConfigError) problems.push(...error.problems);
    }
    throw new ConfigError(problems);
  }
  const problems: string[] = [];
  let plan: DeploymentPlan | null = null;
  try {
    plan = planFromArgs(flags);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  const given = (name: string) => flags.some((arg) => arg === name || arg.startsWith(`${name}=`));
  // the rollback is an edge configuration; there is no latchkey process to deploy for it
  if (given('--public') && (targetName === 'compose' || targetName === 'systemd'))
    problems.push(`--public: the rollback needs no latchkey processes; use it with nginx or caddy, or stop the ${targetName === 'compose' ? 'containers' : 'services'}`);
  // containers reach each other over the compose network; a socket would need a shared volume
  if (given('--proxy-socket') && targetName === 'compose')
    problems.push('--proxy-socket: not offered for compose, where nginx reaches the proxy container over the compose network (--proxy-upstream)');
  // These processes listen on loopback behind nginx or Caddy, which hold the certificate; a unit
  // that silently dropped the flags would leave someone expecting https with none.
  const tlsFlags = ['--tls-cert', '--tls-key'].filter(given);
  if (tlsFlags.length && (targetName === 'compose' || targetName === 'systemd'))
    problems.push(`${tlsFlags.join(', ')}: not used by ${targetName}, whose latchkey processes listen behind nginx or Caddy; give the certificate to generate nginx or generate caddy (--single for latchkey serve). For latchkey serve with its own TLS, see docs/serve.md ("TLS without nginx")`);
  if (plan && !problems.length) problems.push(...ineffectiveFlags(target.generate, targetName, flags, plan, tlsFlags));
  if (problems.length || !plan) throw new ConfigError(problems);
  process.stdout.write(target.generate(plan));
  return 0;
}

// Two values for each flag that may or may not matter to a target: both valid, differing from
// each other, so at least one differs from whatever was given.
const PROBES: Record<string, [string, string]> = {
  '--site-root': ['/srv/probe-a', '/srv/probe-b'],
  '--auth-cache': ['31s', '47s'],
  '--auth-cache-path': ['/var/cache/probe-a', '/var/cache/probe-b'],
  '--tls-cert': ['/etc/probe-a.pem', '/etc/probe-b.pem'],
  '--tls-key': ['/etc/probe-a.key', '/etc/probe-b.key'],
  '--id-upstream': ['127.0.0.1:1001', '127.0.0.1:1002'],
  '--proxy-upstream': ['127.0.0.1:1003', '127.0.0.1:1004'],
  '--serve-upstream': ['127.0.0.1:1005', '127.0.0.1:1006'],
  '--proxy-socket': ['/run/probe-a.sock', '/run/probe-b.sock'],
  '--access-log': ['/var/log/probe-a.log', '/var/log/probe-b.log'],
  '--default-access-log': ['/var/log/probe-c.log', '/var/log/probe-d.log'],
  '--error-log': ['/var/log/probe-e.log', '/var/log/probe-f.log'],
  '--listen-address': ['127.0.0.2', '127.0.0.3'],
  '--https-port': ['10443', '11443'],
  '--http-port': ['10080', '11080'],
  '--cookie-name': ['probe_a', 'probe_b'],
  '--client-id': ['probe-a', 'probe-b'],
  '--image': ['probe:a', 'probe:b'],
  '--install-dir': ['/opt/probe-a', '/opt/probe-b'],
};

/**
 * Flags given that cannot change this file: someone who passes --auth-cache to generate caddy, or
 * --proxy-upstream beside --proxy-socket, expects an effect, and silence would hide that there is
 * none. Decided by generating the file again with other values for the flag (the last value of a
 * flag wins): when neither changes a byte, the flag does nothing here, whatever the reason.
 */
function ineffectiveFlags(generate: (plan: DeploymentPlan) => string, targetName: string, flags: string[], plan: DeploymentPlan, alreadyRefused: string[]): string[] {
  const output = generate(plan);
  const given = new Set(flags.filter((arg) => arg.startsWith('--')).map((arg) => arg.split('=')[0]));
  const unused = [...given].filter((flag) => {
    const probes = PROBES[flag];
    if (!probes || alreadyRefused.includes(flag)) return false;
    return probes.every((value) => {
      try {
        return generate(planFromArgs([...flags, flag, value])) === output;
      } catch {
        return false; // a probe this combination refuses: no verdict, so no complaint
      }
    });
  });
  return unused.map((flag) => `${flag}: changes nothing in what generate ${targetName} prints with these flags; leave it out (docs/reverse-proxies.md lists which flags each target uses)`);
}
