import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ReferenceProvider, startReferenceProvider } from '../helpers/reference-provider.ts';
import { proxyReadyUrl } from '../helpers/proxy-process.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = `${root}node_modules/.bin/node`;

describe('latchkey proxy command', () => {
  let op: ReferenceProvider;
  before(async () => {
    op = await startReferenceProvider({ clientId: 'cli-client', clientSecret: 'cli-secret', redirectUris: ['http://127.0.0.1/oauth2/callback'] });
  });
  after(() => op.close());

  it('prints its options with --help', async () => {
    const child = spawn(node, ['src/main.ts', 'proxy', '--help'], { cwd: root });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.match(out, /latchkey proxy/);
  });

  it('starts from oauth2-proxy flags, becomes ready once discovery loads, and stops cleanly on SIGTERM', async () => {
    // --https-address as oauth2-proxy's Helm chart always passes it: without a certificate it does nothing, and says so
    const child = spawn(node, ['src/main.ts', 'proxy', '--provider=oidc', '--client-id=cli-client', '--client-secret=cli-secret',
      `--oidc-issuer-url=${op.issuer}`, `--cookie-secret=${randomBytes(32).toString('base64url')}`, '--email-domain=*',
      '--http-address=127.0.0.1:0', '--https-address=0.0.0.0:4443', '--upstream=static://202'], { cwd: root, env: { ...process.env, OAUTH2_PROXY_COOKIE_SECURE: 'false' } });
    after(() => child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const url = await proxyReadyUrl(child);
    assert.equal((await fetch(`${url}/oauth2/auth`)).status, 401);
    assert.match(output, /"level":40.*--https-address .*ignored/);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });
});
