// doctor's fix for a protected location that does not send visitors back to their page after
// sign-in. The return address it suggests must keep the port: with $host alone, a site on 8443
// sends the browser to 443 after sign-in (ERR_CONNECTION_REFUSED). It must be the very line
// `latchkey generate nginx` writes for that port.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { makePlan } from '../../src/deploy/plan.ts';
import { runDoctor } from '../helpers/doctor-deployment.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-doctor-401-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const RETURN_LINE = /proxy_set_header X-Auth-Request-Redirect [^;]+;/;

/** The generated configuration for `httpsPort`, changed by `edit`, and doctor's verdict on it. */
async function verdict(httpsPort: number, edit: (config: string) => string) {
  const generated = generateNginxConfig(makePlan({ httpsPort }));
  const file = join(dir, `site-${httpsPort}-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(file, edit(generated));
  const check = (await runDoctor(['--json', '--offline', '--nginx-config', file])).byId('nginx-sign-in-on-401');
  return { check, generatedLine: RETURN_LINE.exec(generated)![0] };
}

const withoutReturnAddress = (config: string) => config.replace(/^\s*proxy_set_header X-Auth-Request-Redirect .*\n/m, '');
const withoutErrorPage = (config: string) => config.replace(/^\s*error_page 401 .*\n/m, '');

describe('doctor: the return address it suggests after sign-in', () => {
  it('keeps the port of a site on 8443, exactly as latchkey generate nginx writes it', async () => {
    const { check, generatedLine } = await verdict(8443, withoutReturnAddress);
    assert.equal(check.status, 'warn');
    assert.equal(generatedLine, 'proxy_set_header X-Auth-Request-Redirect $scheme://$host:8443$request_uri;');
    assert.ok(check.fix!.includes(generatedLine), check.fix);
    assert.doesNotMatch(check.fix!, /\$host\$request_uri/);
  });

  it('keeps the port when the location has no error_page 401 at all', async () => {
    const { check, generatedLine } = await verdict(8443, withoutErrorPage);
    assert.equal(check.status, 'fail');
    assert.ok(check.fix!.includes(generatedLine), check.fix);
  });

  it('suggests $host alone on 443, as the generator does', async () => {
    const { check, generatedLine } = await verdict(443, withoutReturnAddress);
    assert.equal(generatedLine, 'proxy_set_header X-Auth-Request-Redirect $scheme://$host$request_uri;');
    assert.ok(check.fix!.includes(generatedLine), check.fix);
  });

  it('asks for the port when the server takes HTTPS on no single port it can read', async () => {
    const { check } = await verdict(8443, (config) => withoutReturnAddress(config).replaceAll(/listen 8443 ssl http2;/g, 'listen 8443 ssl http2;\n    listen 9443 ssl;'));
    assert.match(check.fix!, /X-Auth-Request-Redirect \$scheme:\/\/\$host:PORT\$request_uri; \(PORT: the https port visitors use; for 443 leave out ":PORT"\)/);
  });
});
