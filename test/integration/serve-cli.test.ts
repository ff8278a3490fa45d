import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/free-port.ts';
import { makeLocalCa, servedFingerprint } from '../helpers/local-ca.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = `${root}node_modules/.bin/node`;

/** The environment of a fresh shell: nothing that would point serve at another database, key or address. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' };
  for (const name of Object.keys(env)) {
    if (/^(LATCHKEY_|APP_URL|PUBLIC_APP_URL|HOST$|PORT$|DB_CONNECTION_STRING|ENCRYPTION_KEY|DATA_DIR|TRUST_PROXY)/.test(name)) delete env[name];
  }
  return env;
}

/** Collects a child's output lines; `waitFor` resolves with the first (already seen or later) that matches. */
function outputLines(child: ChildProcess) {
  let text = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk;
    for (const listener of listeners) listener();
  });
  return {
    waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = text.split('\n').find((l) => pattern.test(l));
          if (!line) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(line);
        };
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${text}`)), timeoutMs);
        child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}:\n${text}`)));
        listeners.add(check);
        check();
      });
    },
  };
}

describe('latchkey serve command', () => {
  const dirs: string[] = [];
  after(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

  it('prints its flags with --help', async () => {
    const child = spawn(node, ['src/main.ts', 'serve', '--help'], { cwd: root });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    for (const flag of ['--site', '--protect', '--url', '--id-url', '--listen', '--id-listen', '--data', '--tls-cert', '--tls-key', '--http-redirect-port', '--trust-proxy']) assert.ok(out.includes(flag), flag);
  });

  it('reports every configuration problem at once and exits 2', async () => {
    const child = spawn(node, ['src/main.ts', 'serve', '--site', '/nonexistent/site', '--url', 'http://example.com', '--protect', 'private=', '--tls-cert', 'cert.pem'], { cwd: root, env: cleanEnv() });
    let err = '';
    child.stderr.on('data', (chunk) => { err += chunk; });
    const [code] = await once(child, 'exit');
    assert.equal(code, 2);
    assert.match(err, /--site: \/nonexistent\/site does not exist/);
    assert.match(err, /--url: must be https/);
    assert.match(err, /--protect: "private=" names no group/);
    assert.match(err, /--tls-cert and --tls-key: give both/);
    // the identity provider's own problem, although its address (derived from --url) is unusable
    assert.match(err, /ENCRYPTION_KEY: required when APP_URL is not localhost/);
  });

  it('starts on the demo site with a fresh data folder, prints the setup link, protects /private/ and stops on SIGTERM with exit 0', async () => {
    const data = mkdtempSync(join(tmpdir(), 'latchkey-serve-cli-'));
    dirs.push(data);
    const [sitePort, idPort] = [await freePort(), await freePort()];
    const site = `http://localhost:${sitePort}`;
    const id = `http://localhost:${idPort}`;
    const child = spawn(node, ['src/main.ts', 'serve', '--site', 'demo/public', '--protect', '/private/', '--protect', '/private/family/=family',
      '--url', site, '--id-url', id, '--listen', `127.0.0.1:${sitePort}`, '--id-listen', `127.0.0.1:${idPort}`, '--data', data], { cwd: root, env: cleanEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
    const output = outputLines(child);
    try {
      const ready = JSON.parse(await output.waitFor(/ready \d+ ms after process start/)) as { msg: string };
      const link = JSON.parse(await output.waitFor(/one-time link/)) as { msg: string };
      const setupUrl = /(http:\/\/\S+)$/.exec(link.msg)?.[1] ?? '';
      assert.match(setupUrl, new RegExp(`^${id}/setup\\?token=[\\w-]{20,}$`));
      assert.equal((await fetch(setupUrl)).status, 200, 'the printed link opens the setup page');
      // fetch() says Sec-Fetch-Mode: cors, which a signed-out script gets 401 for; this asks as a page would
      const privatePage = await fetch(`${site}/private/`, { redirect: 'manual', headers: { 'sec-fetch-dest': 'document' } });
      assert.equal(privatePage.status, 302);
      assert.equal(privatePage.headers.get('location'), '/oauth2/start?rd=%2Fprivate%2F');
      assert.equal((await fetch(`${site}/`)).status, 200);
      assert.ok(existsSync(join(data, 'latchkey.db')) && existsSync(join(data, 'encryption.key')), 'database and generated key in --data');
      console.log(`# ${ready.msg}`);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });

  it('takes renewed certificate files at once on SIGHUP (systemctl reload, a certbot deploy hook), and keeps running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-serve-cli-tls-'));
    dirs.push(dir);
    const [first, second] = ['first', 'second'].map((name) => makeLocalCa(join(dir, name), ['agents.example', 'id.example']));
    const [cert, key] = [join(dir, 'fullchain.pem'), join(dir, 'privkey.pem')];
    copyFileSync(first.certFile, cert);
    copyFileSync(first.keyFile, key);
    const port = await freePort();
    const child = spawn(node, ['src/main.ts', 'serve', '--site', 'demo/public', '--url', `https://agents.example:${port}`, '--id-url', `https://id.example:${port}`,
      '--listen', `127.0.0.1:${port}`, '--tls-cert', cert, '--tls-key', key, '--data', join(dir, 'data')],
    { cwd: root, env: { ...cleanEnv(), ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const output = outputLines(child);
    const served = () => servedFingerprint(port, 'agents.example', [first.caPem, second.caPem]);
    const fingerprintOf = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;
    try {
      await output.waitFor(/ready \d+ ms after process start/);
      assert.match(await output.waitFor(/TLS certificate .* valid until/), /a renewed one is taken within a minute, or at once on SIGHUP/);
      assert.equal(await served(), fingerprintOf(first.certFile));
      copyFileSync(second.certFile, cert);
      copyFileSync(second.keyFile, key);
      child.kill('SIGHUP');
      await output.waitFor(/TLS certificate reloaded/);
      assert.equal(await served(), fingerprintOf(second.certFile));
      child.kill('SIGHUP');
      await output.waitFor(/SIGHUP: the TLS certificate files have not changed/);
      assert.equal(child.exitCode, null, 'still running');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });
});
