// A whole split deployment on loopback for the doctor's tests: real nginx (the generated
// configuration, or a broken variant of it) with TLS for agents.example.com and id.example.com on
// test ports, the real latchkey id and latchkey proxy in-process, and a way to run
// `latchkey doctor` against it with --resolve and --ca-file.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as doctor } from '../../src/cli/doctor.ts';
import { loadProxyConfig } from '../../src/config/proxy-config.ts';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { makePlan, type DeploymentPlan } from '../../src/deploy/plan.ts';
import type { ReportedResult } from '../../src/doctor/run.ts';
import { createProxyServer } from '../../src/proxy/server.ts';
import { freePort, onFreshPorts, requireTool, startNginx, writeNginxConf } from './deploy-tools.ts';
import { startIdServer, type IdServer } from './id-server.ts';

export const SITE = 'agents.example.com';
export const ID = 'id.example.com';
export const COOKIE_SECRET = 'q3Vx1ZkR8mWnT5yB2cLp9sJd4hGf7aE0uYiOoPlKjHg'; // 32 bytes, base64url

/** A self-signed certificate (its own CA) for `hosts`, valid for `days`. */
export function makeCert(dir: string, hosts: string[], days: number): { certificate: string; key: string } {
  const certificate = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const result = spawnSync(requireTool('openssl'), [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', String(days),
    '-keyout', key, '-out', certificate, '-subj', `/CN=${hosts[0]}`, '-addext', `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}`,
  ], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr}`);
  return { certificate, key };
}

export interface DeploymentOptions {
  /** APP_URL's host (id.example.com): another one is failure mode 1. */
  appUrlHost?: string;
  certHosts?: string[];
  certDays?: number;
  /** Changes the generated nginx configuration (the server blocks) before nginx starts. */
  editNginx?: (config: string, plan: DeploymentPlan) => string;
  /** Proxy flags to drop (by name, e.g. 'redirect-url') or add. */
  dropProxyFlags?: string[];
  extraProxyFlags?: string[];
  idEnv?: Record<string, string>;
}

export interface Deployment {
  dir: string;
  id: IdServer;
  idUrl: string;
  siteUrl: string;
  httpsPort: number;
  httpPort: number;
  nginxConf: string;
  proxyFlags: string[];
  idEnv: Record<string, string>;
  certificate: string;
  /** The doctor's flags for this deployment (URLs, --resolve, --ca-file, nginx, proxy flags last). */
  doctorArgs(extra?: string[]): string[];
  stop(): Promise<void>;
}

/**
 * The deployment on fresh ports; started again on others when nginx finds one of them taken by
 * another test's server in between (freePort() cannot hold a port for us), at most three times.
 */
export function startDeployment(options: DeploymentOptions = {}): Promise<Deployment> {
  return onFreshPorts(3, () => startDeploymentOnPorts(options));
}

async function startDeploymentOnPorts(options: DeploymentOptions): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-doctor-'));
  const httpsPort = await freePort();
  const httpPort = await freePort();
  const tls = makeCert(dir, options.certHosts ?? [SITE, ID], options.certDays ?? 90);
  const idUrl = `https://${ID}:${httpsPort}`;
  const siteUrl = `https://${SITE}:${httpsPort}`;
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const idEnv = { APP_URL: `https://${options.appUrlHost ?? ID}:${httpsPort}`, TRUST_PROXY: '127.0.0.1', ...options.idEnv };
    const id = await startIdServer(idEnv);
    stops.push(() => id.close());
    const fullIdEnv = { ...idEnv, ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef', DB_CONNECTION_STRING: join(id.dataDir, 'latchkey.db') };
    const { secret } = await id.services.clients.create({ id: 'latchkey-site', name: 'site', redirectUris: [`${siteUrl}/oauth2/callback`], unrestricted: true });

    const proxyFlags = [
      '--provider=oidc', '--client-id=latchkey-site', `--client-secret=${secret}`, `--cookie-secret=${COOKIE_SECRET}`,
      `--oidc-issuer-url=https://${options.appUrlHost ?? ID}:${httpsPort}`, `--oidc-internal-url=http://127.0.0.1:${id.port}`, `--redirect-url=${siteUrl}/oauth2/callback`,
      '--email-domain=*', '--upstream=static://202', '--skip-provider-button=true', '--set-xauthrequest=true', '--reverse-proxy=true',
      '--cookie-refresh=5m', '--http-address=127.0.0.1:0', '--log-level=error', ...(options.extraProxyFlags ?? []),
    ].filter((flag) => !(options.dropProxyFlags ?? []).some((name) => flag.startsWith(`--${name}=`)));
    const proxy = await createProxyServer(loadProxyConfig({ argv: proxyFlags, env: {} }));
    const listening = await proxy.listen();
    if (listening.transport !== 'tcp') throw new Error('this deployment\'s proxy listens on TCP');
    const proxyPort = listening.port;
    stops.push(() => proxy.close());
    await proxy.runtime.oidc.discover();

    const plan = makePlan({
      tls, siteRoot: join(dir, 'site'), authCachePath: join(dir, 'auth-cache'), accessLogPath: join(dir, 'latchkey-access.log'), defaultAccessLogPath: join(dir, 'access.log'),
      listenAddress: '127.0.0.1', httpsPort, httpPort, proxyUpstream: `127.0.0.1:${proxyPort}`, idUpstream: `127.0.0.1:${id.port}`,
    });
    for (const [name, text] of Object.entries({ 'index.html': 'public home', 'private/index.html': 'private home', 'private/page.html': 'private page', '404.html': 'not found' })) {
      mkdirSync(join(plan.siteRoot, name, '..'), { recursive: true });
      writeFileSync(join(plan.siteRoot, name), text);
    }
    const generated = generateNginxConfig(plan);
    const nginxConf = writeNginxConf(dir, options.editNginx ? options.editNginx(generated, plan) : generated);
    const nginx = await startNginx(dir, httpsPort);
    stops.push(() => nginx.stop());

    return {
      dir, id, idUrl, siteUrl, httpsPort, httpPort, nginxConf, proxyFlags, idEnv: fullIdEnv, certificate: tls.certificate, stop,
      doctorArgs: (extra = []) => [
        '--json', '--id-url', idUrl, '--site-url', siteUrl, '--http-port', String(httpPort), '--ca-file', tls.certificate,
        ...[httpsPort, httpPort].flatMap((port) => [SITE, ID].flatMap((host) => ['--resolve', `${host}:${port}:127.0.0.1`])),
        '--nginx-config', nginxConf, ...extra, '--proxy-args', ...proxyFlags,
      ],
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface DoctorRun {
  code: number;
  results: ReportedResult[];
  byId(id: string): ReportedResult;
}

/** Runs `latchkey doctor` in-process with --json and returns its results. */
export async function runDoctor(argv: string[], io: { env?: Record<string, string>; nowMs?: () => number; stdin?: string } = {}): Promise<DoctorRun> {
  let printed = '';
  const code = await doctor(argv, {
    env: io.env ?? {}, nowMs: io.nowMs ?? (() => Date.now()), print: (text) => (printed += text), readStdin: async () => io.stdin ?? '',
  });
  const { results } = JSON.parse(printed) as { results: ReportedResult[] };
  return {
    code, results,
    byId(id) {
      const found = results.find((r) => r.id === id);
      if (!found) throw new Error(`no check ${id} in ${results.map((r) => r.id).join(', ')}`);
      return found;
    },
  };
}

/** Adds users with passkeys straight into the id's database. */
export async function addUser(id: IdServer, user: { username: string; admin?: boolean; passkeys: number; groups?: string[] }): Promise<void> {
  const db = id.services.database.db;
  const now = Date.now();
  const userId = `u-${user.username}`;
  await db.insertInto('users').values({ id: userId, username: user.username, email: `${user.username}@example.com`, first_name: user.username, last_name: '', is_admin: user.admin ? 1 : 0, disabled: 0, email_verified: 1, created_at: now, updated_at: now }).execute();
  for (let i = 0; i < user.passkeys; i++)
    await db.insertInto('passkeys').values({ id: `pk-${user.username}-${i}`, user_id: userId, public_key: 'AAAA', sign_count: 0, transports: '[]', name: `key ${i}`, aaguid: '', backup_eligible: 0, backup_state: 0, created_at: now, last_used_at: null }).execute();
  for (const group of user.groups ?? []) {
    const existing = await db.selectFrom('groups').select('id').where('name', '=', group).executeTakeFirst();
    const groupId = existing?.id ?? `g-${group}`;
    if (!existing) await db.insertInto('groups').values({ id: groupId, name: group, friendly_name: group, created_at: now }).execute();
    await db.insertInto('user_groups').values({ user_id: userId, group_id: groupId }).execute();
  }
}
