// latchkey doctor against the guide's own configuration, run verbatim (host names, ports and paths
// adapted to the test): its nginx Step 4 in real nginx in front of the real latchkey id and proxy,
// its two compose files, its cookie secret. Also failure modes 2 (cookie size) and 6 (recovery).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeploymentPlan } from '../../src/deploy/plan.ts';
import { addUser, type Deployment, ID, runDoctor, SITE, startDeployment } from '../helpers/doctor-deployment.ts';

const FIXTURES = new URL('../fixtures/doctor/', import.meta.url).pathname;

/** The guide's Step 4, with the test's ports, certificate and folders. */
function guideNginx(plan: DeploymentPlan, extra = ''): string {
  const listen = `listen 127.0.0.1:${plan.httpsPort} ssl http2;`;
  const tls = `ssl_certificate ${plan.tls.certificate};\n    ssl_certificate_key ${plan.tls.key};`;
  return `
upstream oauth2-proxy {
    server ${plan.proxyUpstream};
}
server {
    ${listen}
    server_name ${ID};
    ${tls}
    location / {
        proxy_pass http://${plan.idUpstream};
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }
}
server {
    ${listen}
    server_name ${SITE};
    ${tls}
    location /oauth2/ {
        proxy_pass http://oauth2-proxy;
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        # Important for large cookies
        proxy_buffer_size 128k;
        proxy_buffers 4 256k;
        proxy_busy_buffers_size 256k;
    }
    location /private/ {
        auth_request /oauth2/auth;
        auth_request_set $user $upstream_http_x_auth_request_user;
        auth_request_set $email $upstream_http_x_auth_request_email;
        proxy_set_header X-User $user;
        proxy_set_header X-Email $email;
        alias ${plan.siteRoot}/private/;
        try_files $uri $uri/ =404;
    }
${extra}
    location / {
        root ${plan.siteRoot};
        try_files $uri $uri/ =404;
    }
}
server {
    listen 127.0.0.1:${plan.httpPort};
    server_name ${SITE} ${ID};
    return 301 https://$host:${plan.httpsPort}$request_uri;
}
`;
}

// the guide's proxy flags (Step 3), on the test's addresses
const GUIDE_FLAGS = ['--cookie-csrf-per-request=true', '--cookie-csrf-expire=5m', '--pass-authorization-header=true', '--set-authorization-header=true', '--pass-access-token=true', '--upstream=static://200'];

describe("the guide's nginx Step 4, run verbatim in front of latchkey", () => {
  let deployment: Deployment;
  before(async () => (deployment = await startDeployment({
    editNginx: (_generated, plan) => guideNginx(plan),
    dropProxyFlags: ['set-xauthrequest', 'upstream'], extraProxyFlags: GUIDE_FLAGS,
  })));
  after(() => deployment?.stop());

  it('fails: a visitor without a session gets a bare 401 (no error_page 401), with the fix', async () => {
    const check = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('nginx-sign-in-on-401');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /location \/private\/ \(.*site\.conf:\d+\) has no error_page 401/);
    assert.match(check.fix!, /error_page 401 = \/oauth2\/sign_in;/);
    // the test's https port is not 443: the port must stay in the address, as the generator writes it
    assert.ok(check.fix!.includes(`X-Auth-Request-Redirect $scheme://$host:${deployment.httpsPort}$request_uri;`), check.fix);
  });

  it('confirms what the check says: nginx really answers the bare 401', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: deployment.httpsPort, path: '/private/', servername: SITE, headers: { Host: `${SITE}:${deployment.httpsPort}` }, ca: readFileSync(deployment.certificate) }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject).end();
    });
    assert.equal(answer.status, 401);
    assert.match(answer.body, /401 Authorization Required/);
  });

  it('warns that /private/ has no ^~ although no regex location exists yet', async () => {
    const check = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('nginx-prefix-priority');
    assert.equal(check.status, 'warn');
    assert.match(check.fix!, /location \^~ \/private\//);
  });

  it('fails auth_request_set of X-Auth-Request-* headers the proxy does not send (no --set-xauthrequest)', async () => {
    const check = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('nginx-auth-request-set');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /auth_request_set \$user \$upstream_http_x_auth_request_user/);
    assert.match(check.fix!, /--set-xauthrequest=true/);
  });

  it('warns that the private location lets browsers keep pages that they then show after sign-out', async () => {
    const check = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('nginx-private-caching');
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /location \/private\/ .* no "Cache-Control: no-store"/);
    assert.match(check.fix!, /add_header Cache-Control "private, no-store" always;/);
  });

  it("warns that proxy_set_header X-User / X-Email in the static /private/ location does nothing", async () => {
    const check = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('nginx-dead-proxy-headers');
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /location \/private\/ .* sets X-User, X-Email but proxies nothing/);
  });

  it("reports the protected path as refusing (401), as the guide's checklist expects", async () => {
    const doctor = await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv });
    assert.equal(doctor.byId('protected-path').status, 'ok');
    assert.equal(doctor.byId('proxy-auth').status, 'ok');
    assert.equal(doctor.code, 1);
  });
});

describe('a regex location beside the guide\'s /private/ (no ^~)', () => {
  let deployment: Deployment;
  before(async () => (deployment = await startDeployment({
    editNginx: (_generated, plan) => guideNginx(plan, '    location ~* \\.xml$ {\n        root ' + plan.siteRoot + ';\n    }\n'),
    dropProxyFlags: ['set-xauthrequest'],
  })));
  after(() => deployment?.stop());

  it('fails and names the regex location that serves private files without auth', async () => {
    const check = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('nginx-prefix-priority');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /location ~\* \\\.xml\$ \(/);
  });
});

describe("the guide's compose files and cookie secret", () => {
  const composeArgs = ['--json', '--offline', '--compose', join(FIXTURES, 'guide-pocket-id.yml'), '--compose', join(FIXTURES, 'guide-oauth2-proxy.yml')];

  it('fails the proxy listening on its container\'s own 127.0.0.1 behind a published port', async () => {
    const check = (await runDoctor(composeArgs)).byId('compose-proxy-address');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /service "oauth2-proxy" listens on 127\.0\.0\.1:4180 \(the default\)/);
    assert.match(check.fix!, /--http-address=0\.0\.0\.0:4180/);
  });

  it('names PUBLIC_APP_URL, DB_PROVIDER and the missing ENCRYPTION_KEY', async () => {
    const check = (await runDoctor(composeArgs)).byId('id-variables');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /PUBLIC_APP_URL is set/);
    assert.match(check.detail, /DB_PROVIDER=sqlite is set/);
    assert.match(check.detail, /ENCRYPTION_KEY is not set/);
    assert.match(check.fix!, /APP_URL=https:\/\/id\.ch3ngl0rd\.com/);
  });

  it('fails a health check on /health, which is not an endpoint', async () => {
    const check = (await runDoctor(composeArgs)).byId('compose-healthcheck');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /service "pocket-id" checks its health with "CMD curl -f http:\/\/localhost:1411\/health"/);
    assert.match(check.fix!, /healthz/);
  });

  it('warns that the standard-base64 cookie secret would stop oauth2-proxy from starting', async () => {
    const check = (await runDoctor(composeArgs)).byId('cookie-secret');
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /standard base64 with "\+" or "\/": latchkey decodes it to 32 bytes/);
    assert.match(check.fix!, /tr -- '\+\/' '-_'/);
  });

  it('passes the generated compose file on all three', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-doctor-compose-'));
    try {
      const text = spawnSync(process.execPath, [new URL('../../src/main.ts', import.meta.url).pathname, 'generate', 'compose'], { encoding: 'utf8' }).stdout;
      writeFileSync(join(dir, 'compose.yaml'), text);
      const doctor = await runDoctor(['--json', '--offline', '--compose', join(dir, 'compose.yaml')]);
      for (const id of ['compose-proxy-address', 'id-variables', 'compose-healthcheck']) assert.equal(doctor.byId(id).status, 'ok', `${id}: ${doctor.byId(id).detail}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the client at the provider (from the id database)', () => {
  let deployment: Deployment;
  before(async () => {
    deployment = await startDeployment();
    // as the guide's Step 6 registers it: without the site's port, and a second client with no group
    await deployment.id.services.database.db.updateTable('oidc_clients').set({ redirect_uris: JSON.stringify([`https://${SITE}/oauth2/callback`]), unrestricted: 0 }).where('id', '=', 'latchkey-site').execute();
  });
  after(() => deployment?.stop());

  it("fails a redirect URL the client does not list, and a client restricted to no group", async () => {
    const check = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('client-registration');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, new RegExp(`has redirect URIs https://agents\\.example\\.com/oauth2/callback but the proxy returns to https://agents\\.example\\.com:${deployment.httpsPort}/oauth2/callback`));
    assert.match(check.detail, /restricted to groups but has none: nobody can sign in/);
  });
});

describe('failure mode 2: nginx without the large proxy buffers, users in many groups', () => {
  let deployment: Deployment;
  before(async () => {
    deployment = await startDeployment({ editNginx: (config) => config.replace(/^\s*proxy_(buffer_size|buffers|busy_buffers_size) .*\n/gm, '') });
    await addUser(deployment.id, { username: 'alice', admin: true, passkeys: 2, groups: Array.from({ length: 40 }, (_, i) => `project-group-number-${i}`) });
    await addUser(deployment.id, { username: 'bob', admin: true, passkeys: 2 });
  });
  after(() => deployment?.stop());

  it("sizes the real session cookie, sees it split, and names the 4k default proxy_buffer_size", async () => {
    const check = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('cookie-size');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /the user with the most groups in the database \(40\) is 2 cookies _oauth2_proxy_0…_1 \(split/);
    assert.match(check.detail, /proxy_buffer_size in location \^~ \/oauth2\/ \(.*\) is 4k \(the default\)/);
    assert.match(check.fix!, /location \^~ \/oauth2\/:\n\s+proxy_buffer_size 128k;/);
    assert.match(check.fix!, /every location auth_request uses .*:\n\s+proxy_buffer_size 32k;/, 'the auth check gets what the session needs, not 128k per request');
  });

  it('passes the same users with the generated buffers', async () => {
    const healthy = await startDeployment();
    try {
      await addUser(healthy.id, { username: 'alice', admin: true, passkeys: 2, groups: Array.from({ length: 40 }, (_, i) => `project-group-number-${i}`) });
      assert.equal((await runDoctor(healthy.doctorArgs(), { env: healthy.idEnv })).byId('cookie-size').status, 'ok');
    } finally {
      await healthy.stop();
    }
  });
});

describe('failure mode 6: an only admin with a single passkey and no recovery codes', () => {
  let deployment: Deployment;
  before(async () => {
    deployment = await startDeployment();
    await addUser(deployment.id, { username: 'carol', admin: true, passkeys: 1 });
    await addUser(deployment.id, { username: 'dave', passkeys: 1 });
    await addUser(deployment.id, { username: 'erin', passkeys: 1 });
    await deployment.id.services.database.db.insertInto('recovery_codes' as never).values({ code_hash: 'h1', user_id: 'u-erin', created_at: Date.now(), used_at: null } as never).execute();
  });
  after(() => deployment?.stop());

  it('names the admin and the user at risk, not the one with recovery codes', async () => {
    const check = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('passkey-recovery');
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /only one admin \(carol\)/);
    assert.match(check.detail, /admin carol has a single passkey and no recovery codes/);
    assert.match(check.detail, /1 user\(s\) with a single passkey and no recovery codes: dave/);
    assert.doesNotMatch(check.detail, /erin/);
    assert.match(check.fix!, /second passkey/);
  });
});
