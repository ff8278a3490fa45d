// `latchkey serve` terminating TLS itself, production-shaped: two host names on one port (one
// certificate covers both), told apart by Host; HSTS; a plain-http listener that moves to https.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServeApp, type ServeApp } from '../../src/app/serve-app.ts';
import { loadServeConfig } from '../../src/config/serve-config.ts';
import { freePort } from '../helpers/free-port.ts';
import { makeLocalCa } from '../helpers/local-ca.ts';
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
});
