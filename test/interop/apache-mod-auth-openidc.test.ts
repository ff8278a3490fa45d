// Apache 2.4 + mod_auth_openidc (Debian's build), an OIDC client we did not write, protecting a
// folder with latchkey id as its provider. A missing apache2 or module fails this test loudly.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BrowserJar } from '../helpers/browser-jar.ts';
import { authorizeInBrowser } from '../helpers/oidc-flow.ts';
import { startOidcTestServer, type OidcTestServer } from '../helpers/oidc-test-server.ts';

const MODULES = '/usr/lib/apache2/modules';
const SECRET_TEXT = 'the private page, served by apache';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, errorLog: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`apache2 exited with ${child.exitCode}: ${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => { socket.end(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('apache2 did not start listening within 10 s');
}

function apacheConfig(v: { dir: string; port: number; issuer: string; clientId: string; secret: string }): string {
  const runAs = process.getuid?.() === 0 ? 'User www-data\nGroup www-data\n' : '';
  return `ServerRoot "${v.dir}"
PidFile "${v.dir}/httpd.pid"
DefaultRuntimeDir "${v.dir}"
Listen 127.0.0.1:${v.port}
ServerName localhost
${runAs}ErrorLog "${v.dir}/error.log"
LogLevel warn auth_openidc:info
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule auth_openidc_module ${MODULES}/mod_auth_openidc.so
DocumentRoot "${v.dir}/htdocs"
<Directory "${v.dir}/htdocs">
  Require all granted
</Directory>

OIDCProviderMetadataURL ${v.issuer}/.well-known/openid-configuration
OIDCClientID ${v.clientId}
OIDCClientSecret ${v.secret}
OIDCRedirectURI http://localhost:${v.port}/private/redirect_uri
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

describe('Apache mod_auth_openidc with latchkey id as its provider', () => {
  let server: OidcTestServer;
  let apache: ChildProcess;
  let dir: string;
  let apacheUrl: string;
  let alice: string;
  let mallory: string;

  before(async () => {
    server = await startOidcTestServer();
    alice = await server.createUser({ username: 'alice', groups: ['friends'] });
    mallory = await server.createUser({ username: 'mallory', groups: ['strangers'] });
    const port = await freePort();
    apacheUrl = `http://localhost:${port}`;
    const { clientId, secret } = await server.createClient({ id: 'apache', name: 'Apache', redirectUris: [`${apacheUrl}/private/redirect_uri`], allowedGroups: ['friends'] });

    dir = mkdtempSync(join(tmpdir(), 'latchkey-apache-'));
    chmodSync(dir, 0o755); // Apache's children run as www-data when started by root
    mkdirSync(join(dir, 'htdocs/private'), { recursive: true });
    writeFileSync(join(dir, 'htdocs/private/secret.html'), `<p>${SECRET_TEXT}</p>`);
    writeFileSync(join(dir, 'httpd.conf'), apacheConfig({ dir, port, issuer: server.issuer, clientId, secret: secret! }));
    apache = spawn('/usr/sbin/apache2', ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], { stdio: ['ignore', 'inherit', 'inherit'] });
    const spawnError = new Promise<never>((_, reject) => apache.once('error', reject));
    await Promise.race([waitForPort(port, apache, join(dir, 'error.log')), spawnError]);
  });

  after(async () => {
    if (apache && apache.exitCode === null) {
      const exited = new Promise((resolve) => apache.once('exit', resolve));
      apache.kill('SIGTERM');
      await exited;
    }
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the protected file after a passkey sign-in at latchkey', async () => {
    const jar = new BrowserJar();
    const first = await jar.fetch(`${apacheUrl}/private/secret.html`);
    assert.equal(first.status, 302, readFileSync(join(dir, 'error.log'), 'utf8').slice(-3000));
    const toProvider = new URL(first.headers.get('location')!);
    assert.equal(toProvider.origin + toProvider.pathname, `${server.issuer}/authorize`);
    assert.equal(toProvider.searchParams.get('code_challenge_method'), 'S256');

    const outcome = await authorizeInBrowser(server, jar, toProvider.href, alice, `${apacheUrl}/private/redirect_uri`);
    assert.ok(outcome.callback, `stopped at ${outcome.finalStatus}: ${outcome.finalBody.slice(0, 200)}`);
    const back = await jar.follow(outcome.callback.href);
    const errorLog = readFileSync(join(dir, 'error.log'), 'utf8');
    assert.equal(back.response.status, 200, `apache answered ${back.response.status}; hops ${back.hops.map((h) => `${h.status} ${h.url}`).join(' → ')}\n${errorLog.slice(-2000)}`);
    assert.match(await back.response.text(), new RegExp(SECRET_TEXT));
    assert.equal(back.url, `${apacheUrl}/private/secret.html`);
  });

  it('never serves the file to a user outside the client\'s groups', async () => {
    const jar = new BrowserJar();
    const first = await jar.fetch(`${apacheUrl}/private/secret.html`);
    const outcome = await authorizeInBrowser(server, jar, new URL(first.headers.get('location')!).href, mallory, `${apacheUrl}/private/redirect_uri`);
    assert.equal(outcome.callback, null);
    assert.equal(outcome.finalStatus, 403);
    const again = await jar.fetch(`${apacheUrl}/private/secret.html`);
    assert.equal(again.status, 302, 'still not signed in at Apache');
  });
});
