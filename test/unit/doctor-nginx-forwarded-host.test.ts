// The deployment guide's /oauth2/ location sends `proxy_set_header Host $host;`, which drops a port
// other than 443. The proxy checks return addresses against that host (and builds its callback from
// it without --redirect-url), so on a site served on :8443 a return address to https://site:8443/…
// is refused and visitors land on "/" after sign-in. doctor said nothing of it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { makePlan } from '../../src/deploy/plan.ts';
import { runDoctor } from '../helpers/doctor-deployment.ts';
import { GUIDE_STEP_4_NGINX, replaceExactly, withSignInRedirect } from '../helpers/guide-nginx.ts';

const onPort = (text: string, port: number) => replaceExactly(text, 'listen 443 ssl http2;', `listen ${port} ssl http2;`, 2);
const doctorOn = (conf: string, proxyArgs: string[] = []) =>
  runDoctor(['--json', '--offline', '--nginx-t', ...(proxyArgs.length ? ['--proxy-args', ...proxyArgs] : [])], { stdin: `# configuration file /etc/nginx/nginx.conf:\nhttp { ${conf} }\n` });
const PROXY = ['--provider=oidc', '--client-id=site', '--client-secret=s', '--oidc-issuer-url=https://id.example.com', '--cookie-secret=q3Vx1ZkR8mWnT5yB2cLp9sJd4hGf7aE0uYiOoPlKjHg', '--email-domain=*', '--upstream=static://200'];

describe('doctor: the host and port nginx tells the proxy', () => {
  it("warns that the guide's Host $host drops :8443, and suggests what latchkey generate nginx writes", async () => {
    const check = (await doctorOn(onPort(GUIDE_STEP_4_NGINX, 8443))).byId('nginx-forwarded-host');
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /location \/oauth2\/ \(.*\) on port 8443 sends Host \$host, without :8443: the proxy refuses return addresses on https:\/\/HOST:8443\/ \(visitors land on "\/" after sign-in\)/);
    assert.match(check.detail, /unless the proxy has a --redirect-url with its host, it builds its sign-in callback without :8443 too/);
    assert.match(check.fix!, /proxy_set_header Host \$host:8443; \(as latchkey generate nginx writes it\)$/);
  });

  it('says the callback is wrong too when the proxy has no --redirect-url, and not when it has one', async () => {
    const conf = onPort(GUIDE_STEP_4_NGINX, 8443);
    assert.match((await doctorOn(conf, PROXY)).byId('nginx-forwarded-host').detail, /with no --redirect-url it builds its sign-in callback without :8443 too/);
    const told = (await doctorOn(conf, [...PROXY, '--redirect-url=https://agents.example.com:8443/oauth2/callback'])).byId('nginx-forwarded-host');
    assert.equal(told.status, 'warn');
    assert.doesNotMatch(told.detail, /callback/);
    // a path only (oauth2-proxy's relative --redirect-url) takes the host from the request as well
    assert.match((await doctorOn(conf, [...PROXY, '--redirect-url=/oauth2/callback'])).byId('nginx-forwarded-host').detail,
      /with --redirect-url \/oauth2\/callback \(a path only\) it builds its sign-in callback without :8443 too/);
  });

  it('finds the location error_page 401 sends visitors to, whatever its path', async () => {
    const conf = onPort(withSignInRedirect(), 8443).replace('location /oauth2/ {', 'location /auth/ {').replace('error_page 401 = /oauth2/sign_in;', 'error_page 401 = /auth/sign_in;');
    assert.match((await doctorOn(conf)).byId('nginx-forwarded-host').detail, /location \/auth\/ .* sends Host \$host, without :8443/);
  });

  it('passes the guide on 443, $http_host or $host:8443 on 8443, and the configuration latchkey generate nginx writes for 8443', async () => {
    assert.equal((await doctorOn(GUIDE_STEP_4_NGINX)).byId('nginx-forwarded-host').status, 'ok');
    for (const value of ['$http_host', '$host:8443']) {
      const conf = replaceExactly(onPort(GUIDE_STEP_4_NGINX, 8443), 'proxy_pass http://oauth2-proxy;\n        proxy_set_header Host $host;', `proxy_pass http://oauth2-proxy;\n        proxy_set_header Host ${value};`);
      assert.equal((await doctorOn(conf)).byId('nginx-forwarded-host').status, 'ok', value);
    }
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-nginx-host-'));
    try {
      writeFileSync(join(dir, 'site.conf'), generateNginxConfig(makePlan({ httpsPort: 8443 })));
      writeFileSync(join(dir, 'nginx.conf'), 'http { include site.conf; }');
      const check = (await runDoctor(['--json', '--offline', '--nginx-config', join(dir, 'nginx.conf')])).byId('nginx-forwarded-host');
      assert.equal(check.status, 'ok', check.detail);
      assert.match(check.detail, /location \^~ \/oauth2\/ .*: the host with :8443/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warns of an X-Forwarded-Host without the port, which the proxy reads first with --reverse-proxy', async () => {
    const conf = replaceExactly(onPort(GUIDE_STEP_4_NGINX, 8443), 'proxy_pass http://oauth2-proxy;\n        proxy_set_header Host $host;', 'proxy_pass http://oauth2-proxy;\n        proxy_set_header Host $host:8443;\n        proxy_set_header X-Forwarded-Host $host;');
    const check = (await doctorOn(conf, [...PROXY, '--reverse-proxy'])).byId('nginx-forwarded-host');
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /sends X-Forwarded-Host \$host, without :8443, which the proxy \(--reverse-proxy\) reads before Host/);
    assert.match(check.fix!, /proxy_set_header X-Forwarded-Host \$host:8443;/);
    assert.equal((await doctorOn(conf, PROXY)).byId('nginx-forwarded-host').status, 'ok', 'without --reverse-proxy it reads Host only');
  });
});
