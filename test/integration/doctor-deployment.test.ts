// latchkey doctor against running deployments: real nginx (the generated configuration, then
// broken variants of it), the real latchkey id and proxy. Each broken deployment must be named
// with its fix; the healthy one must pass.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { addUser, type Deployment, ID, runDoctor, SITE, startDeployment } from '../helpers/doctor-deployment.ts';
import { edgeFetch } from '../helpers/edge-fetch.ts';

const REPO = new URL('../..', import.meta.url).pathname;

describe('doctor against a healthy deployment (generated nginx, latchkey id and proxy)', () => {
  let deployment: Deployment;
  before(async () => {
    deployment = await startDeployment();
    for (const username of ['alice', 'bob']) await addUser(deployment.id, { username, admin: true, passkeys: 2 });
  });
  after(() => deployment?.stop());
  const healthyArgs = () => deployment.doctorArgs(['--site', `${REPO}demo/public`]);

  it('passes: no check fails and the exit status is 0', async () => {
    const doctor = await runDoctor(healthyArgs(), { env: deployment.idEnv });
    const failed = doctor.results.filter((r) => r.status === 'fail' || r.status === 'warn');
    assert.deepEqual(failed, []);
    assert.equal(doctor.code, 0);
  });

  it('checks the running deployment rather than skipping it', async () => {
    const doctor = await runDoctor(healthyArgs(), { env: deployment.idEnv });
    for (const id of ['nginx-private-caching', 'nginx-forwarded-uri', 'id-health', 'discovery-issuer', 'rp-id-host', 'tls-certificate', 'https-redirect', 'clock-skew', 'proxy-auth', 'protected-path', 'sign-in-redirect', 'callback-url', 'cookie-size', 'client-registration', 'passkey-recovery', 'site-leaks'])
      assert.equal(doctor.byId(id).status, 'ok', `${id}: ${doctor.byId(id).detail}`);
  });

  it('names clock skew when this machine is 90 seconds off the servers, with the NTP fix (failure mode 4)', async () => {
    const doctor = await runDoctor(healthyArgs(), { env: deployment.idEnv, nowMs: () => Date.now() - 90_000 });
    const skew = doctor.byId('clock-skew');
    assert.equal(skew.status, 'fail');
    assert.match(skew.detail, /identity provider's clock is (89|90|91) s ahead/);
    assert.match(skew.fix!, /timedatectl set-ntp true/);
    assert.equal(doctor.code, 1);
  });

  it('only warns about a skew of 20 seconds', async () => {
    const doctor = await runDoctor(healthyArgs(), { env: deployment.idEnv, nowMs: () => Date.now() + 20_000 });
    assert.equal(doctor.byId('clock-skew').status, 'warn');
  });
});

describe('failure mode 1: the provider runs with another APP_URL than the address users open', () => {
  let deployment: Deployment;
  before(async () => (deployment = await startDeployment({ appUrlHost: 'auth.example.com' })));
  after(() => deployment?.stop());

  it('names the issuer and relying-party ID mismatch and the APP_URL to set', async () => {
    const doctor = await runDoctor(deployment.doctorArgs(), { env: {} });
    const issuer = doctor.byId('discovery-issuer');
    assert.equal(issuer.status, 'fail');
    assert.match(issuer.detail, new RegExp(`users reach the provider at ${deployment.idUrl} but its issuer is "https://auth\\.example\\.com:`));
    assert.match(issuer.fix!, new RegExp(`APP_URL=${deployment.idUrl}`));
    const rpId = doctor.byId('rp-id-host');
    assert.equal(rpId.status, 'fail');
    assert.match(rpId.detail, /relying-party ID \(the issuer's host\) is auth\.example\.com/);
    assert.equal(doctor.code, 1);
  });

  it("refuses APP_URL with a trailing slash in the operator's environment", async () => {
    const doctor = await runDoctor(deployment.doctorArgs(), { env: { ...deployment.idEnv, APP_URL: `${deployment.idUrl}/` } });
    const appUrl = doctor.byId('app-url');
    assert.equal(appUrl.status, 'fail');
    assert.match(appUrl.detail, /no path or trailing slash/);
    assert.equal(appUrl.fix, `APP_URL=${deployment.idUrl}`);
  });
});

describe('failure mode 3: a certificate that does not name the id host, and plain HTTP that serves instead of redirecting', () => {
  let deployment: Deployment;
  before(async () => (deployment = await startDeployment({
    certHosts: [SITE], certDays: 5,
    editNginx: (config) => config.replace(/return 301 https:\/\/\$host:\d+\$request_uri;/, 'return 200 "plain http";'),
  })));
  after(() => deployment?.stop());

  it('fails the certificate of the id host and warns about the one expiring in 5 days', async () => {
    const tls = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('tls-certificate');
    assert.equal(tls.status, 'fail');
    assert.match(tls.detail, new RegExp(`${ID.replace(/\./g, '\\.')}:\\d+: the certificate does not name ${ID.replace(/\./g, '\\.')}`));
    assert.match(tls.detail, /agents\.example\.com:\d+: the certificate expires in [45] days/);
    assert.match(tls.fix!, /certbot certonly -d id\.example\.com/);
  });

  it('fails plain HTTP that answers 200 and prints the redirecting server block', async () => {
    const redirect = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('https-redirect');
    assert.equal(redirect.status, 'fail');
    assert.match(redirect.detail, /answered 200 instead of redirecting to https/);
    // the test's https port is not 443: the redirect keeps it, as the generator writes it
    assert.ok(redirect.fix!.includes(`return 301 https://$host:${deployment.httpsPort}$request_uri;`), redirect.fix);
  });
});

// With --cookie-secure (the default) the proxy builds an https callback whatever nginx says, as
// oauth2-proxy does (test/integration/proxy-compat-callback-url.test.ts); the guide's failure shows
// with a proxy that does not set Secure cookies.
describe('failure mode 5: nginx sends no X-Forwarded-Proto and the proxy has no --redirect-url (nor --cookie-secure); the id has no TRUST_PROXY', () => {
  let deployment: Deployment;
  before(async () => (deployment = await startDeployment({
    editNginx: (config) => config.replace(/^\s*proxy_set_header X-Forwarded-Proto \$scheme;\n/gm, ''),
    dropProxyFlags: ['redirect-url'],
    extraProxyFlags: ['--cookie-secure=false'],
  })));
  after(() => deployment?.stop());

  it('sees the proxy ask the provider to return to http:// and names X-Forwarded-Proto', async () => {
    const doctor = await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv });
    const callback = doctor.byId('callback-url');
    assert.equal(callback.status, 'fail');
    assert.match(callback.detail, new RegExp(`return to http://${SITE.replace(/\./g, '\\.')}:${deployment.httpsPort}/oauth2/callback`));
    assert.match(callback.fix!, /proxy_set_header X-Forwarded-Proto \$scheme/);
  });

  it('lists every proxied location of the nginx file that lacks X-Forwarded-Proto', async () => {
    const proto = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('nginx-forwarded-proto');
    assert.equal(proto.status, 'fail');
    for (const location of ['location / ', 'location ^~ /oauth2/', 'location = /_latchkey/sign-in', 'location = /_latchkey/auth/1']) assert.ok(proto.detail.includes(location), proto.detail);
  });

  it('warns that the provider behind nginx has no TRUST_PROXY', async () => {
    const env = { ...deployment.idEnv };
    delete (env as Record<string, string>).TRUST_PROXY;
    const trust = (await runDoctor(deployment.doctorArgs(), { env })).byId('trust-proxy');
    assert.equal(trust.status, 'warn');
    assert.match(trust.detail, /TRUST_PROXY is not set/);
    assert.match(trust.fix!, /TRUST_PROXY=127\.0\.0\.1/);
  });
});

// A hand-written auth location, as the guide's: it passes on every header of the visitor's (the
// generated one passes only the cookie, so a visitor's X-Forwarded-Uri would not even arrive).
const handWritten = (config: string) => config.replace(/^\s*proxy_pass_request_headers off;\n\s*proxy_set_header Cookie \$http_cookie;\n/gm, '');

describe('an auth location that leaves X-Forwarded-Uri to the visitor, with a proxy that has a skip route', () => {
  let deployment: Deployment;
  before(async () => (deployment = await startDeployment({
    editNginx: (config) => handWritten(config).replace(/^\s*proxy_set_header X-Forwarded-Uri \$request_uri;\n/gm, ''),
    extraProxyFlags: ['--skip-auth-route=^/public/'],
  })));
  after(() => deployment?.stop());

  it('is an open door: a visitor naming a public path in the header reads a protected page', async () => {
    const edge = { port: deployment.httpsPort, caPem: readFileSync(deployment.certificate, 'utf8') };
    assert.notEqual((await edgeFetch(`https://${SITE}/private/page.html`, edge)).body, 'private page');
    assert.equal((await edgeFetch(`https://${SITE}/private/page.html`, edge, { 'x-forwarded-uri': '/public/x' })).body, 'private page');
  });

  it('fails the check, names the location and gives the line that closes it', async () => {
    const check = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('nginx-forwarded-uri');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /location = \/_latchkey\/auth\/1 .* sets no X-Forwarded-Uri.*anyone can read the protected pages/);
    assert.match(check.fix!, /proxy_set_header X-Forwarded-Uri \$request_uri;/);
  });
});

describe('an auth location that leaves X-Forwarded-Method to the visitor, with a proxy that has a METHOD= skip route', () => {
  let deployment: Deployment;
  before(async () => (deployment = await startDeployment({
    editNginx: (config) => handWritten(config).replace(/^\s*proxy_set_header X-Forwarded-Method \$request_method;\n/gm, ''),
    extraProxyFlags: ['--skip-auth-route=GET=^/public/'],
  })));
  after(() => deployment?.stop());

  it('fails the check, names the location and gives the line that closes it', async () => {
    const check = (await runDoctor(deployment.doctorArgs(), { env: deployment.idEnv })).byId('nginx-forwarded-uri');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /location = \/_latchkey\/auth\/1 .* sets no X-Forwarded-Method.*a GET= one admits every method/);
    assert.match(check.fix!, /proxy_set_header X-Forwarded-Method \$request_method;/);
  });

  it('passes the generated configuration with the same proxy', async () => {
    const generated = await startDeployment({ extraProxyFlags: ['--skip-auth-route=GET=^/public/'] });
    try {
      const check = (await runDoctor(generated.doctorArgs(), { env: generated.idEnv })).byId('nginx-forwarded-uri');
      assert.equal(check.status, 'ok', check.detail);
    } finally {
      await generated.stop();
    }
  });
});
