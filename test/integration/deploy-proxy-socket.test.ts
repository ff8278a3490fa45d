// `latchkey generate … --proxy-socket PATH`: the generated files pass their tools' checks, and real
// nginx running the generated configuration reaches the real `latchkey proxy` over the socket.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { generateCaddyfile } from '../../src/deploy/caddyfile.ts';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { makePlan } from '../../src/deploy/plan.ts';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../src/proxy/oidc-client.ts';
import { generateSystemdUnits } from '../../src/deploy/systemd-units.ts';
import { freePort, makeCertificate, nginxTest, onFreshPorts, requireTool, startNginx, writeNginxConf } from '../helpers/deploy-tools.ts';
import { edgeFetch } from '../helpers/edge-fetch.ts';
import { proxyFlags, sessionCookie, spawnProxy, startDiscoveryStub, type SpawnedProxy } from '../helpers/socket-proxy.ts';

const SITE = 'agents.example.com';
const ID = 'id.example.com';
const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

const work = mkdtempSync(join(tmpdir(), 'latchkey-proxy-socket-'));
after(() => rmSync(work, { recursive: true, force: true }));
const tls = makeCertificate(work, [SITE, ID]);
const folder = (name: string) => {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
};

describe('files generated with --proxy-socket pass their tools\' checks', () => {
  it('nginx -t accepts the configuration', () => {
    const dir = folder('nginx-t');
    writeNginxConf(dir, generateNginxConfig(makePlan({ tls, siteRoot: join(dir, 'site'), accessLogPath: join(dir, 'access.log'), defaultAccessLogPath: join(dir, 'access.log'), proxySocket: '/run/latchkey/proxy.sock' })));
    const result = nginxTest(dir);
    assert.equal(result.status, 0, result.output);
    assert.doesNotMatch(result.output, /\[warn\]/);
  });

  it('caddy validate accepts the Caddyfile', () => {
    const dir = folder('caddy');
    const file = join(dir, 'Caddyfile');
    writeFileSync(file, generateCaddyfile(makePlan({ proxySocket: '/run/latchkey/proxy.sock' })));
    const result = spawnSync(requireTool('caddy'), ['validate', '--config', file, '--adapter', 'caddyfile'], {
      encoding: 'utf8', env: { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
    });
    assert.equal(result.status, 0, result.stderr);
  });

  it('systemd-analyze verify accepts the socket unit with the id and proxy services', () => {
    const dir = folder('systemd');
    const text = generateSystemdUnits(makePlan({ installDir: REPO, proxySocket: '/run/latchkey/proxy.sock' }));
    const files = text.split(/^# file: \/etc\/systemd\/system\//m).slice(1).map((part) => {
      const name = part.slice(0, part.indexOf('\n'));
      writeFileSync(join(dir, name), part.slice(name.length + 1));
      return join(dir, name);
    });
    assert.deepEqual(files.map((f) => f.slice(dir.length + 1)), ['latchkey-id.service', 'latchkey-proxy.service', 'latchkey-proxy.socket']);
    const result = spawnSync(requireTool('systemd-analyze'), ['verify', ...files], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), '', 'systemd-analyze reported problems');
  });
});

describe('nginx running the generated configuration, asking the real latchkey proxy over its unix socket', () => {
  const dir = folder('running');
  const socket = join(dir, 'proxy.sock');
  const accessLog = join(dir, 'latchkey-access.log');
  let provider: Awaited<ReturnType<typeof startDiscoveryStub>>;
  let proxy: SpawnedProxy;
  let nginx: Awaited<ReturnType<typeof startNginx>>;
  let httpsPort: number;
  const alice = sessionCookie({ sub: 'alice', email: 'alice@example.com' });
  const get = (path: string, headers: Record<string, string> = {}) => edgeFetch(`https://${SITE}:${httpsPort}${path}`, { port: httpsPort, caPem: readFileSync(tls.certificate, 'utf8') }, headers);
  const post = (path: string, body: string) => edgeFetch(`https://${SITE}:${httpsPort}${path}`, { port: httpsPort, caPem: readFileSync(tls.certificate, 'utf8') }, { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', body);
  // the provider's signing key, for a logout token as the provider would send it
  let signingKey: CryptoKey;

  before(async () => {
    const keys = await generateKeyPair('RS256', { extractable: true });
    signingKey = keys.privateKey;
    provider = await startDiscoveryStub({ jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] } });
    proxy = spawnProxy(proxyFlags(`unix://${socket}`, ['--reverse-proxy=true'], provider.issuer));
    await proxy.listeningOn;
    ({ httpsPort, nginx } = await onFreshPorts(3, async () => {
      const httpsPort = await freePort();
      const plan = makePlan({ tls, siteRoot: join(dir, 'site'), accessLogPath: accessLog, defaultAccessLogPath: join(dir, 'access.log'), listenAddress: '127.0.0.1', httpsPort, httpPort: await freePort(), proxySocket: socket });
      for (const [name, text] of Object.entries({ 'index.html': 'public home', '404.html': 'not found', 'private/page.html': 'private page' })) {
        mkdirSync(join(plan.siteRoot, name, '..'), { recursive: true });
        writeFileSync(join(plan.siteRoot, name), text);
      }
      writeNginxConf(dir, generateNginxConfig(plan));
      return { httpsPort, nginx: await startNginx(dir, httpsPort) };
    }));
  });
  after(async () => {
    await nginx?.stop();
    await proxy?.stop();
    await provider?.close();
  });

  it('serves a protected page to a valid session: the proxy answered 202 over the socket', async () => {
    const answer = await get('/private/page.html', { cookie: alice });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'private page');
  });

  it('shows the sign-in to a visitor without a session: the proxy answered 401', async () => {
    const answer = await get('/private/page.html?a=1&b=2');
    assert.doesNotMatch(answer.body, /private page/);
    assert.match(answer.body, /action="\/oauth2\/start"/);
    assert.ok(answer.body.includes(`name="rd" value="https://${SITE}:${httpsPort}/private/page.html?a=1&amp;b=2"`), answer.body);
  });

  it('answers /oauth2/auth itself with 202 for a session and 401 without', async () => {
    assert.equal((await get('/oauth2/auth', { cookie: alice })).status, 202);
    assert.equal((await get('/oauth2/auth')).status, 401);
  });

  it('builds the callback from the scheme and host nginx forwards over the socket', async () => {
    const answer = await get('/oauth2/start?rd=%2Fprivate%2Fpage.html');
    assert.equal(answer.status, 302);
    const location = new URL(String(answer.headers.location));
    assert.equal(location.origin, provider.issuer);
    // https and the public host: X-Forwarded-Proto/-Host from the socket peer were believed
    assert.equal(location.searchParams.get('redirect_uri'), `https://${SITE}:${httpsPort}/oauth2/callback`);
  });

  it('takes a back-channel logout through nginx to the socket (the URI to register with --proxy-socket), then refuses that session', async () => {
    const bob = sessionCookie({ sub: 'bob', email: 'bob@example.com' });
    assert.equal((await get('/private/page.html', { cookie: bob })).status, 200);
    const logoutToken = await new SignJWT({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(provider.issuer).setAudience('site').setSubject('bob').setIssuedAt().setJti(randomUUID()).sign(signingKey);
    const forged = await post('/oauth2/backchannel-logout', `logout_token=${logoutToken.slice(0, -4)}AAAA`);
    assert.equal(forged.status, 400, 'a token with a broken signature is refused');
    assert.equal((await get('/private/page.html', { cookie: bob })).status, 200);
    const answer = await post('/oauth2/backchannel-logout', `logout_token=${logoutToken}`);
    assert.equal(answer.status, 200, answer.body);
    assert.doesNotMatch((await get('/private/page.html', { cookie: bob })).body, /private page/, "bob's session is over");
    assert.equal((await get('/private/page.html', { cookie: alice })).status, 200, 'other users stay signed in');
  });

  it('names the session\'s user in the access log, never one the client sent', async () => {
    const forged = { 'x-auth-request-user': 'mallory', 'x-forwarded-user': 'mallory', 'x-auth-request-email': 'mallory@example.com' };
    assert.equal((await get('/private/page.html?who=signed-in', { cookie: alice, ...forged })).status, 200);
    assert.doesNotMatch((await get('/private/page.html?who=anonymous', forged)).body, /private page/);
    // nginx writes the line after sending the answer: give it a moment (the check is on content)
    const signedIn = () => (existsSync(accessLog) ? readFileSync(accessLog, 'utf8') : '').split('\n').find((line) => line.includes('?who=signed-in'));
    for (let attempt = 0; attempt < 250 && !signedIn(); attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.match(signedIn() ?? 'no line', /^127\.0\.0\.1 - alice \[/);
    // the anonymous visit ends at the sign-in page, logged in nginx's default log
    assert.doesNotMatch(readFileSync(accessLog, 'utf8'), /mallory|who=anonymous/);
  });
});
