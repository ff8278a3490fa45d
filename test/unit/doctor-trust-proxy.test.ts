// doctor's TRUST_PROXY check when the provider believes any peer (TRUST_PROXY=1, the guide's value).
// That is safe only while nothing but the reverse proxy reaches the port: the guide's container
// got that from its published port, 127.0.0.1:1411, but `latchkey id` run with the same variables
// listens on every interface unless HOST says otherwise, and a client that reaches it directly
// writes its own X-Forwarded-For (the audit log's address, the per-address rate limits).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runDoctor } from '../helpers/doctor-deployment.ts';

const FIXTURES = new URL('../fixtures/doctor/', import.meta.url).pathname;
const verdict = async (env: Record<string, string>, argv: string[] = []) =>
  (await runDoctor(['--json', '--offline', ...argv], { env })).byId('trust-proxy');
const guideEnv = { PUBLIC_APP_URL: 'https://id.example.com', TRUST_PROXY: '1', DB_PROVIDER: 'sqlite', SESSION_DURATION: '720h' };

describe('doctor: TRUST_PROXY=1 and the address latchkey id listens on', () => {
  it('warns when latchkey id listens on every interface (HOST unset), naming HOST=127.0.0.1 and a list as the fix', async () => {
    const check = await verdict(guideEnv);
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /TRUST_PROXY=1 believes X-Forwarded-For from any peer, and latchkey id listens on every interface \(HOST unset: 0\.0\.0\.0\)/);
    assert.match(check.detail, /anyone who reaches port 1411 directly chooses the client address/);
    assert.match(check.fix!, /HOST=127\.0\.0\.1.*TRUST_PROXY=127\.0\.0\.1/);
  });

  it('warns for a HOST that is not loopback, and names its port', async () => {
    const check = await verdict({ ...guideEnv, HOST: '10.0.0.5', PORT: '21411' });
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /listens on HOST=10\.0\.0\.5 .*port 21411/);
  });

  it('reads HOST, PORT and TRUST_PROXY from their _FILE forms too, as latchkey id does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-trust-proxy-'));
    try {
      const file = (name: string, text: string) => { writeFileSync(join(dir, name), `${text}\n`); return join(dir, name); };
      const { TRUST_PROXY: _unused, ...withoutTrust } = guideEnv;
      assert.equal((await verdict({ ...guideEnv, HOST_FILE: file('host', '127.0.0.1') })).status, 'ok');
      const check = await verdict({ ...withoutTrust, TRUST_PROXY_FILE: file('trust', 'true'), HOST_FILE: file('host2', '10.0.0.5'), PORT_FILE: file('port', '21411') });
      assert.equal(check.status, 'warn');
      assert.match(check.detail, /TRUST_PROXY=true believes .* listens on HOST=10\.0\.0\.5 .*port 21411/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes with HOST on loopback, or with a list of proxies', async () => {
    assert.equal((await verdict({ ...guideEnv, HOST: '127.0.0.1' })).status, 'ok');
    assert.equal((await verdict({ ...guideEnv, TRUST_PROXY: '127.0.0.1' })).status, 'ok');
  });

  it("passes the guide's compose file: its published port is bound to 127.0.0.1 on the host", async () => {
    assert.equal((await verdict({}, ['--compose', `${FIXTURES}guide-pocket-id.yml`])).status, 'ok');
  });
});
