// `latchkey serve` terminating TLS itself, production-shaped: two host names on one port (one
// certificate covers both), told apart by Host; HSTS; a plain-http listener that moves to https.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServeApp, type ServeApp } from '../../src/app/serve-app.ts';
import { loadServeConfig } from '../../src/config/serve-config.ts';
import { freePort } from '../helpers/free-port.ts';
import { type LocalCa, makeLocalCa, servedFingerprint } from '../helpers/local-ca.ts';
import { writeSite } from '../helpers/serve-server.ts';

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function collect(resolve: (answer: Answer) => void, reject: (error: Error) => void) {
  return (res: import('node:http').IncomingMessage) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    res.on('error', reject);
  };
}

describe('latchkey serve with --tls-cert: both host names on one https port', () => {
  let dir: string;
  let siteDir: string;
  let serve: ServeApp;
  let port: number;
  let redirectPort: number;
  let ca: string;

  /** An https request to 127.0.0.1 as a browser would send it to `hostname` (SNI and Host). */
  const get = (hostname: string, path: string): Promise<Answer> => new Promise((resolve, reject) => {
    httpsRequest({ host: '127.0.0.1', port, path, servername: hostname, ca, headers: { host: `${hostname}:${port}` } }, collect(resolve, reject)).on('error', reject).end();
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-serve-tls-'));
    siteDir = writeSite();
    const local = makeLocalCa(join(dir, 'ca'), ['agents.example', 'id.example']);
    ca = readFileSync(local.caFile, 'utf8');
    [port, redirectPort] = [await freePort(), await freePort()];
    const config = loadServeConfig({
      argv: ['--site', siteDir, '--url', `https://agents.example:${port}`, '--id-url', `https://id.example:${port}`, '--listen', `127.0.0.1:${port}`,
        '--tls-cert', local.certFile, '--tls-key', local.keyFile, '--http-redirect-port', String(redirectPort), '--data', join(dir, 'data')],
      env: { ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef', LOG_LEVEL: 'warn' },
    });
    assert.equal(config.sharedListener, true);
    serve = await createServeApp(config, { logger: false });
  });
  after(async () => {
    await serve?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(siteDir, { recursive: true, force: true });
  });

  it('serves the site over https with Strict-Transport-Security', async () => {
    const answer = await get('agents.example', '/');
    assert.equal(answer.status, 200);
    assert.match(answer.body, /Public home/);
    assert.equal(answer.headers['strict-transport-security'], 'max-age=31536000');
  });

  it('answers the identity provider\'s host name on the same port, and only there', async () => {
    const discovery = await get('id.example', '/.well-known/openid-configuration');
    assert.equal(discovery.status, 200);
    assert.equal((JSON.parse(discovery.body) as { issuer: string }).issuer, `https://id.example:${port}`);
    assert.equal(discovery.headers['strict-transport-security'], 'max-age=31536000');
    assert.equal((await get('agents.example', '/.well-known/openid-configuration')).status, 404);
  });

  it('starts sign-in at the https provider with Secure cookies, its discovery loaded over the loopback back channel', async () => {
    const start = await get('agents.example', '/oauth2/start?rd=%2Fprivate%2F');
    assert.equal(start.status, 302);
    assert.ok(String(start.headers.location).startsWith(`https://id.example:${port}/authorize?`), String(start.headers.location));
    const cookies = [start.headers['set-cookie']].flat().filter(Boolean) as string[];
    assert.ok(cookies.length > 0 && cookies.every((line) => /;\s*Secure/i.test(line)), cookies.join('\n'));
  });

  it('moves plain http to https on the redirect port, only ever to its own host names', async () => {
    const redirect = (host: string) => new Promise<Answer>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port: redirectPort, path: '/private/?x=1', headers: { host } }, collect(resolve, reject)).on('error', reject).end();
    });
    const own = await redirect(`id.example:${redirectPort}`);
    assert.equal(own.status, 301);
    assert.equal(own.headers.location, `https://id.example:${port}/private/?x=1`);
    const forged = await redirect('evil.example');
    assert.equal(forged.headers.location, `https://agents.example:${port}/private/?x=1`);
  });

  it('reads the host and path of an absolute-form request (RFC 9112 §3.2.2) before choosing the provider or the site, and before moving to https', async () => {
    const absolute = (hostname: string, target: string): Promise<Answer> => new Promise((resolve, reject) => {
      httpsRequest({ host: '127.0.0.1', port, path: target, servername: hostname, ca, headers: { host: `${hostname}:${port}` } }, collect(resolve, reject)).on('error', reject).end();
    });
    // Host names the site; the target names the provider, whose answer it gets (and the reverse)
    const discovery = await absolute('agents.example', `https://id.example:${port}/.well-known/openid-configuration`);
    assert.equal(discovery.status, 200);
    assert.equal((JSON.parse(discovery.body) as { issuer: string }).issuer, `https://id.example:${port}`);
    const page = await absolute('id.example', `https://agents.example:${port}/private/`);
    assert.equal(page.status, 302);
    assert.equal(page.headers.location, '/oauth2/start?rd=%2Fprivate%2F');

    const moved = await new Promise<Answer>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port: redirectPort, path: `http://id.example:${redirectPort}/private/?x=1`, headers: { host: 'agents.example' } }, collect(resolve, reject)).on('error', reject).end();
    });
    assert.equal(moved.headers.location, `https://id.example:${port}/private/?x=1`);
  });
});

// certbot renews every 60 days or so and replaces the files; a serve that read them only at start
// would serve the old certificate until it expired.
describe('latchkey serve with --tls-cert: a renewed certificate without a restart', () => {
  let dir: string;
  let siteDir: string;
  let serve: ServeApp;
  let port: number;
  let first: LocalCa;
  let second: LocalCa;
  const live = { cert: '', key: '' };
  const logLines: Record<string, unknown>[] = [];

  const served = (hostname: string) => servedFingerprint(port, hostname, [first.caPem, second.caPem]);
  const fingerprintOf = (ca: LocalCa) => new X509Certificate(readFileSync(ca.certFile)).fingerprint256;
  async function waitForServed(fingerprint: string): Promise<void> {
    for (let i = 0; i < 100 && (await served('agents.example')) !== fingerprint; i++) await new Promise((r) => setTimeout(r, 50));
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-serve-tls-renew-'));
    siteDir = writeSite();
    first = makeLocalCa(join(dir, 'first'), ['agents.example', 'id.example']);
    second = makeLocalCa(join(dir, 'second'), ['agents.example', 'id.example']);
    [live.cert, live.key] = [join(dir, 'fullchain.pem'), join(dir, 'privkey.pem')];
    copyFileSync(first.certFile, live.cert);
    copyFileSync(first.keyFile, live.key);
    port = await freePort();
    const config = loadServeConfig({
      argv: ['--site', siteDir, '--url', `https://agents.example:${port}`, '--id-url', `https://id.example:${port}`, '--listen', `127.0.0.1:${port}`,
        '--tls-cert', live.cert, '--tls-key', live.key, '--data', join(dir, 'data')],
      env: { ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef', LOG_LEVEL: 'info' },
    });
    serve = await createServeApp(config, { tlsCheckIntervalMs: 50, logDestination: { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) } });
  });
  after(async () => {
    await serve?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(siteDir, { recursive: true, force: true });
  });

  it('shows new connections to both host names the renewed certificate once both files changed, and logs it', async () => {
    assert.equal(await served('agents.example'), fingerprintOf(first));
    copyFileSync(second.certFile, live.cert);
    copyFileSync(second.keyFile, live.key);
    await waitForServed(fingerprintOf(second));
    assert.equal(await served('agents.example'), fingerprintOf(second));
    assert.equal(await served('id.example'), fingerprintOf(second));
    assert.equal(logLines.filter((line) => line.event === 'tls_reloaded').length, 1);
    assert.equal(serve.reloadTls(), 'unchanged');
  });

  it('keeps serving the certificate in use when the files change to a pair that does not match, and says so once', async () => {
    // (the first test's two copies may have been seen half done, and refused once, already)
    const refusals = () => logLines.filter((line) => line.event === 'tls_reload_refused');
    const earlier = refusals().length;
    copyFileSync(first.certFile, live.cert); // the key stays the second one's
    for (let i = 0; i < 250 && refusals().length === earlier; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200)); // a few more looks at the same files
    const refused = refusals().slice(earlier);
    assert.equal(refused.length, 1);
    assert.match(String(refused[0].msg), /is not the key of the certificate/);
    assert.equal(refused[0].level, 40);
    assert.equal(await served('agents.example'), fingerprintOf(second));
  });
});
