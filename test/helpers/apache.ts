// Apache 2.4 + mod_auth_openidc (Debian's build): an OIDC client we did not write, protecting
// /private/ of a folder. A missing apache2 or module makes startApache throw, never skip.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portAccepts, portTakenOr } from './free-port.ts';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

export interface ApacheOptions {
  /** A free port; the client's redirect URI (apacheRedirectUri) must be registered with it first. */
  port: number;
  issuer: string;
  clientId: string;
  secret: string;
  /** Files under htdocs/private/, by name. */
  privateFiles: Record<string, string>;
}

export interface Apache {
  /** http://localhost:PORT */
  url: string;
  /** The tail of Apache's error log, for assertion messages. */
  errorLog(): string;
  close(): Promise<void>;
}

export const apacheRedirectUri = (port: number) => `http://localhost:${port}/private/redirect_uri`;

function apacheConfig(dir: string, v: ApacheOptions): string {
  const runAs = process.getuid?.() === 0 ? 'User www-data\nGroup www-data\n' : '';
  return `ServerRoot "${dir}"
PidFile "${dir}/httpd.pid"
DefaultRuntimeDir "${dir}"
Listen 127.0.0.1:${v.port}
ServerName localhost
${runAs}ErrorLog "${dir}/error.log"
LogLevel warn auth_openidc:info
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule auth_openidc_module ${MODULES}/mod_auth_openidc.so
DocumentRoot "${dir}/htdocs"
<Directory "${dir}/htdocs">
  Require all granted
</Directory>

OIDCProviderMetadataURL ${v.issuer}/.well-known/openid-configuration
OIDCClientID ${v.clientId}
OIDCClientSecret ${v.secret}
OIDCRedirectURI ${apacheRedirectUri(v.port)}
OIDCCryptoPassphrase apache-test-passphrase-0123456789
OIDCScope "openid email profile groups"
OIDCPKCEMethod S256
OIDCIDTokenSignedResponseAlg RS256
OIDCRemoteUserClaim preferred_username
<Location /private/>
  AuthType openid-connect
  Require valid-user
</Location>
`;
}

/**
 * Until this Apache listens on `port`. An answer there is no proof: another test's server may hold
 * the port while Apache fails to bind and exits. Apache writes its pid file only once its
 * sockets are bound, so that file naming this process is the proof (as for nginx).
 */
async function waitUntilListening(dir: string, port: number, child: ChildProcess, output: () => string): Promise<void> {
  const pidFile = join(dir, 'httpd.pid');
  const errorLog = join(dir, 'error.log');
  const said = () => `${output()}${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`;
  const ownPidFile = () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() === String(child.pid);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`apache2 exited with ${child.exitCode}: ${said()}`);
    if (ownPidFile() && (await portAccepts(port))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`apache2 did not start listening on ${port} within 10 s: ${said()}`);
}

/** Starts Apache on options.port; a port taken by another process fails it with PortTakenError (see onFreshPorts). */
export async function startApache(options: ApacheOptions): Promise<Apache> {
  if (!existsSync(APACHE) || !existsSync(`${MODULES}/mod_auth_openidc.so`))
    throw new Error('apache2 or mod_auth_openidc is missing: apt-get install apache2 libapache2-mod-auth-openidc');
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-apache-'));
  chmodSync(dir, 0o755); // Apache's children run as www-data when started by root
  mkdirSync(join(dir, 'htdocs/private'), { recursive: true });
  for (const [name, content] of Object.entries(options.privateFiles)) writeFileSync(join(dir, 'htdocs/private', name), content);
  writeFileSync(join(dir, 'httpd.conf'), apacheConfig(dir, options));
  const errorLogPath = join(dir, 'error.log');
  const child = spawn(APACHE, ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Until it opens its error log (and when it cannot bind), Apache writes to stderr.
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const outputRead = new Promise((resolve) => child.once('close', resolve));

  async function close() {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }

  try {
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    await Promise.race([waitUntilListening(dir, options.port, child, () => output), spawnError]);
  } catch (error) {
    await close();
    await outputRead; // 'exit' can come before the last of its output
    throw portTakenOr(error, output);
  }
  return {
    url: `http://localhost:${options.port}`,
    errorLog: () => (existsSync(errorLogPath) ? readFileSync(errorLogPath, 'utf8').slice(-3000) : ''),
    close,
  };
}
