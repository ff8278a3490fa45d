// `latchkey id` with TRUST_PROXY=true (or 1, the guide's value) believes X-Forwarded-For from any
// peer. Listening beyond loopback (HOST unset is every interface), anyone who reaches the port
// directly chooses the address the audit log and the rate limits see. doctor warns about it; the
// server says so too, once, at start, with the same advice. serve (which also reads TRUST_PROXY)
// warns in its own terms, about its own listen addresses.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadIdConfig } from '../../src/config/id-config.ts';
import { loadServeConfig } from '../../src/config/serve-config.ts';
import { freePort } from '../helpers/free-port.ts';
import { pinnedNode, repoRoot } from '../helpers/latchkey-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-trust-warning-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const KEY = 'test-encryption-key-0123456789abcdef';

/** Starts `latchkey id` with `env`, returns its log lines up to "listening", and stops it. */
async function startLog(env: Record<string, string>): Promise<{ level: number; msg: string }[]> {
  const child = spawn(pinnedNode, ['src/main.ts', 'id'], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env } });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`latchkey id did not start within 15 s:\n${out}`)), 15_000);
      child.stdout.on('data', (chunk) => {
        out += chunk;
        if (out.includes('latchkey id listening on')) { clearTimeout(timer); resolve(); }
      });
      child.stderr.on('data', (chunk) => { out += chunk; });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`latchkey id exited ${code}:\n${out}`)); });
    });
  } finally {
    child.kill('SIGKILL');
  }
  return out.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string });
}

const anyPeerWarnings = (lines: { level: number; msg: string }[]) => lines.filter((l) => l.level === 40 && /believes X-Forwarded-For from any peer/.test(l.msg));

describe('latchkey id at start: TRUST_PROXY=1 on every interface', () => {
  it('logs one warning naming every interface, the port and the fix (HOST=127.0.0.1, or TRUST_PROXY set to the proxy)', async () => {
    const port = await freePort();
    const lines = await startLog({ APP_URL: `http://localhost:${port}`, PORT: String(port), TRUST_PROXY: '1', DB_CONNECTION_STRING: join(dir, 'a.db'), ENCRYPTION_KEY: KEY });
    const warnings = anyPeerWarnings(lines);
    assert.equal(warnings.length, 1, lines.map((l) => l.msg).join('\n'));
    assert.match(warnings[0].msg, new RegExp(`^TRUST_PROXY=1 believes X-Forwarded-For from any peer, and latchkey id listens on every interface \\(HOST unset: 0\\.0\\.0\\.0\\): anyone who reaches port ${port} directly chooses the client address`));
    assert.match(warnings[0].msg, /Fix: HOST=127\.0\.0\.1 when the reverse proxy runs on this machine; or TRUST_PROXY set to the proxy's address instead of 1/);
  });

  it('logs none with HOST=127.0.0.1', async () => {
    const port = await freePort();
    const lines = await startLog({ APP_URL: `http://localhost:${port}`, HOST: '127.0.0.1', PORT: String(port), TRUST_PROXY: 'true', DB_CONNECTION_STRING: join(dir, 'b.db'), ENCRYPTION_KEY: KEY });
    assert.deepEqual(anyPeerWarnings(lines), []);
  });

  it('warns for a HOST beyond loopback, and not for a list of proxies', () => {
    const env = { APP_URL: 'https://id.example.com', ENCRYPTION_KEY: KEY, DB_CONNECTION_STRING: join(dir, 'c.db') };
    assert.equal(loadIdConfig({ env: { ...env, TRUST_PROXY: 'true', HOST: '10.0.0.5' } }).warnings.filter((w) => /listens on HOST=10\.0\.0\.5: anyone who reaches port 1411/.test(w)).length, 1);
    assert.deepEqual(loadIdConfig({ env: { ...env, TRUST_PROXY: '127.0.0.1' } }).warnings, []);
  });
});

describe('latchkey serve at start: TRUST_PROXY=true', () => {
  const base = ['--site', dir, '--data', join(dir, 'serve'), '--url', 'https://agents.example.com', '--id-url', 'https://id.example.com', '--listen', '0.0.0.0:8080'];

  it('warns about its own listen address, once, in its own flags', () => {
    const config = loadServeConfig({ argv: base, env: { ENCRYPTION_KEY: KEY, TRUST_PROXY: 'true' } });
    const all = [...config.warnings, ...config.id.warnings].filter((w) => /believes X-Forwarded-For from any peer/.test(w));
    assert.equal(all.length, 1, all.join('\n'));
    assert.match(all[0], /latchkey serve listens on 0\.0\.0\.0:8080: anyone who reaches it directly/);
    assert.match(all[0], /--listen 127\.0\.0\.1:PORT .*--trust-proxy/);
  });

  it('says nothing with --trust-proxy (loopback only) or a loopback --listen', () => {
    assert.deepEqual(loadServeConfig({ argv: [...base, '--trust-proxy'], env: { ENCRYPTION_KEY: KEY } }).warnings, []);
    assert.deepEqual(loadServeConfig({ argv: [...base, '--listen', '127.0.0.1:8080'], env: { ENCRYPTION_KEY: KEY, TRUST_PROXY: 'true' } }).warnings, []);
  });
});
