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
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') {
    console.log(generateHelp());
    return argv.length === 0 ? 2 : 0;
  }
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
  if (problems.length || !plan) throw new ConfigError(problems);
  process.stdout.write(target.generate(plan));
  return 0;
}
