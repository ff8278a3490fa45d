import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runDoctor } from '../helpers/doctor-deployment.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-doctor-address-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The doctor's compose-proxy-address verdict on a proxy service with these command lines. */
async function verdict(command: string[], ports: string[] = ['127.0.0.1:4180:4180']) {
  const file = join(dir, `compose-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, [
    'services:', '  proxy:', '    image: latchkey:latest', '    command:', '      - proxy',
    ...['--client-id=site', '--client-secret=s', '--cookie-secret=0123456789abcdef0123456789abcdef', '--oidc-issuer-url=https://id.example.com', '--email-domain=*', ...command]
      .map((arg) => `      - "${arg}"`),
    ...(ports.length ? ['    ports:', ...ports.map((p) => `      - "${p}"`)] : []),
    '',
  ].join('\n'));
  return (await runDoctor(['--json', '--offline', '--compose', file])).byId('compose-proxy-address');
}

describe('doctor: where the proxy in its container listens', () => {
  it('warns that a published port reaches nothing when the proxy listens on a unix socket', async () => {
    const check = await verdict(['--http-address=unix:///run/latchkey/proxy.sock,mode=0660']);
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /listens on the unix socket unix:\/\/\/run\/latchkey\/proxy\.sock,mode=0660: its published 127\.0\.0\.1:4180:4180 reaches nothing/);
    assert.match(check.fix!, /shared volume/);
  });

  it('accepts a unix socket that nothing publishes, reached through a shared volume', async () => {
    assert.equal((await verdict(['--http-address', 'unix:///run/latchkey/proxy.sock'], [])).status, 'ok');
  });

  it('fails fd:N, since compose passes no socket', async () => {
    const check = await verdict(['--http-address=fd:3'], []);
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /compose passes none, so the proxy cannot start/);
  });

  it('still fails loopback and passes every interface, in both flag spellings', async () => {
    assert.equal((await verdict(['--http-address', '127.0.0.1:4180'])).status, 'fail');
    assert.equal((await verdict(['--http-address=0.0.0.0:4180'])).status, 'ok');
  });
});
