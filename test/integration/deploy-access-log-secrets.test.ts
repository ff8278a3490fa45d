// Real nginx running the configurations `latchkey generate nginx` prints (the split layout in
// front of the real latchkey id and latchkey proxy, and --single in front of a stand-in for
// latchkey serve), asked for URLs that carry secrets: a one-time sign-in link, the setup link, an
// authorization code on the proxy's callback, an ID token as id_token_hint. Opening a link does not
// use it, so a token in an access log signs in whoever reads the log. Every access log line must
// keep the request recognisable (method, path, status) without the secret. The test nginx.conf
// logs at the http level to access.log in nginx's "combined" format, as Debian's nginx.conf does:
// a generated server block that did not log through the redacting format would leak there.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { generateNginxSingleConfig } from '../../src/deploy/nginx-single-config.ts';
import { makePlan } from '../../src/deploy/plan.ts';
import { freePort, makeCertificate, startNginx, writeNginxConf } from '../helpers/deploy-tools.ts';
import { ID, SITE, startDeployment, type Deployment } from '../helpers/doctor-deployment.ts';

interface Answer { status: number; body: string }

/** GET https://HOST:PORT/path through 127.0.0.1, with SNI and Host for HOST; no redirects followed. */
function get(port: number, host: string, path: string, ca: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, servername: host, ca, agent: false, headers: { host: `${host}:${port}`, accept: 'text/html', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Plain http, for the port-80 server that only redirects. */
function getPlain(port: number, host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { host } }, (res) => (res.resume(), resolve(res.statusCode ?? 0)));
    req.on('error', reject);
    req.end();
  });
}

/** Every access log nginx wrote in `dir` (not error.log), joined. */
const accessLogs = (dir: string): string =>
  readdirSync(dir).filter((name) => name.endsWith('.log') && name !== 'error.log').map((name) => readFileSync(join(dir, name), 'utf8')).join('');

/** nginx writes a line after it has sent the answer: wait until every expected line is there. */
async function waitForLines(dir: string, expected: RegExp[]): Promise<string> {
  for (let attempt = 0; attempt < 250; attempt++) {
    const text = accessLogs(dir);
    if (expected.every((line) => line.test(text))) return text;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return accessLogs(dir);
}

// 43 characters of base64url, as the tokens latchkey issues; recognisable in any log
const secret = (name: string) => `${name}SECRET${'x'.repeat(43 - name.length - 6)}`;

describe('access logs of the generated split configuration, in front of the real latchkey id and proxy', () => {
  let deployment: Deployment;
  let ca: string;
  let log = '';
  const signInToken = { value: '' };
  const setupToken = { value: '' };
  const code = secret('code');
  const idTokenHint = secret('hint');
  const protectedToken = secret('private');

  before(async () => {
    deployment = await startDeployment();
    ca = readFileSync(deployment.certificate, 'utf8');
    const { identity } = deployment.id.services;
    const alice = await identity.users.create({ username: 'alice', email: 'alice@example.com' });
    signInToken.value = (await identity.links.issue('signin', alice.id, 600)).token;
    setupToken.value = (await identity.setup.issueLink()).token;
    const port = deployment.httpsPort;
    assert.equal((await get(port, ID, `/lc/${signInToken.value}`, ca)).status, 200, 'the one-time link page');
    assert.equal((await get(port, ID, `/setup?token=${setupToken.value}`, ca)).status, 200, 'the setup page');
    assert.equal((await get(port, ID, `/api/oidc/end-session?id_token_hint=${idTokenHint}&client_id=latchkey-site`, ca)).status, 400);
    assert.equal((await get(port, SITE, `/oauth2/callback?code=${code}&state=not-this-browsers`, ca)).status, 403);
    assert.equal((await get(port, SITE, `/private/page.html?token=${protectedToken}`, ca)).status, 302, 'to sign in');
    assert.equal((await get(port, SITE, '/index.html?page=2', ca)).status, 200);
    assert.equal(await getPlain(deployment.httpPort, ID, `/lc/${signInToken.value}`), 301);
    // what a browser sends for the stylesheet of each page: the page's address as the Referer
    for (const page of [`/lc/${signInToken.value}`, `/setup?token=${setupToken.value}`])
      assert.equal((await get(port, ID, '/assets/style.css', ca, { referer: `https://${ID}:${port}${page}` })).status, 200);
    log = await waitForLines(deployment.dir, [/"GET \/index\.html\?page=2 /, /" 301 /, /"GET \/lc\/\S+ HTTP\/1\.1" 200 /, /style\.css[^\n]*\n[^\n]*style\.css/]);
  });
  after(() => deployment?.stop());

  it('writes no one-time link token, setup token, authorization code or ID token into any access log', () => {
    assert.ok(log.length > 0, 'nginx wrote access log lines');
    for (const [name, value] of Object.entries({ 'sign-in link token': signInToken.value, 'setup token': setupToken.value, code, 'id_token_hint': idTokenHint, 'token in a protected page\'s query': protectedToken }))
      assert.ok(!log.includes(value), `${name} is in the access log:\n${log}`);
  });

  it('keeps each request line recognisable: method, the path with the secret replaced, status', () => {
    const lines = log.split('\n');
    const line = (pattern: RegExp) => lines.find((l) => pattern.test(l)) ?? `no line ${pattern} in:\n${log}`;
    assert.match(line(/\/lc\/.* 200 /), /"GET \/lc\/\[redacted\] HTTP\/1\.1" 200 /);
    assert.match(line(/\/setup/), /"GET \/setup\?\[redacted\] HTTP\/1\.1" 200 /);
    assert.match(line(/end-session/), /"GET \/api\/oidc\/end-session\?\[redacted\] HTTP\/1\.1" 400 /);
    assert.match(line(/oauth2\/callback/), /"GET \/oauth2\/callback\?\[redacted\] HTTP\/1\.1" 403 /);
    assert.match(line(/private\/page/), /"GET \/private\/page\.html\?\[redacted\] HTTP\/1\.1" 302 /);
    assert.match(line(/ 301 /), /"GET \/lc\/\[redacted\] HTTP\/1\.1" 301 /);
    const styles = lines.filter((l) => l.includes('/assets/style.css'));
    assert.match(styles[0], new RegExp(`"GET /assets/style\\.css HTTP/1\\.1" 200 \\d+ "https://${ID}:\\d+/lc/\\[redacted\\]" "-"$`));
    assert.match(styles[1], new RegExp(`"GET /assets/style\\.css HTTP/1\\.1" 200 \\d+ "https://${ID}:\\d+/setup\\?\\[redacted\\]" "-"$`));
    // in nginx's "combined" shape, and a query without secrets stays as it was
    assert.match(line(/index\.html/), /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/index\.html\?page=2 HTTP\/1\.1" 200 \d+ "-" "-"$/);
  });

  it('leaves the one-time link unused, as opening it through nginx always does', async () => {
    // why the log matters: the token in it would still have signed someone in
    assert.notEqual(await deployment.id.services.identity.links.peek(signInToken.value, 'signin'), null);
  });
});

describe('access logs of the generated --single configuration, in front of latchkey serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-access-log-'));
  const tls = makeCertificate(dir, [SITE, ID]);
  const ca = readFileSync(tls.certificate, 'utf8');
  let serve: Server;
  let nginx: Awaited<ReturnType<typeof startNginx>>;
  let log = '';
  const signInToken = secret('signin');
  const setupToken = secret('setup');
  const code = secret('code');

  before(async () => {
    // a stand-in for latchkey serve: the log line is nginx's, whatever the answer
    serve = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => serve.listen(0, '127.0.0.1', resolve));
    const servePort = (serve.address() as { port: number }).port;
    const httpsPort = await freePort();
    const httpPort = await freePort();
    const nginxDir = join(dir, 'nginx');
    mkdirSync(nginxDir);
    const plan = makePlan({ tls, single: true, listenAddress: '127.0.0.1', httpsPort, httpPort, serveUpstream: `127.0.0.1:${servePort}`, defaultAccessLogPath: join(nginxDir, 'access.log') });
    writeNginxConf(nginxDir, generateNginxSingleConfig(plan));
    nginx = await startNginx(nginxDir, httpsPort);
    for (const [host, path] of [[ID, `/lc/${signInToken}`], [ID, `/setup?token=${setupToken}`], [SITE, `/oauth2/callback?state=s&code=${code}`], [SITE, '/?page=2']] as const)
      assert.equal((await get(httpsPort, host, path, ca)).status, 200);
    assert.equal(await getPlain(httpPort, ID, `/setup?token=${setupToken}`), 301);
    log = await waitForLines(nginxDir, [/page=2/, /" 301 /, /\/lc\//]);
  });
  after(async () => {
    await nginx?.stop();
    await new Promise((resolve) => serve?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes none of the secrets, and keeps method, path and status', () => {
    assert.ok(existsSync(join(dir, 'nginx', 'access.log')));
    for (const value of [signInToken, setupToken, code]) assert.ok(!log.includes(value), `${value} is in the access log:\n${log}`);
    assert.match(log, /"GET \/lc\/\[redacted\] HTTP\/1\.1" 200 /);
    assert.match(log, /"GET \/setup\?\[redacted\] HTTP\/1\.1" 200 /);
    assert.match(log, /"GET \/setup\?\[redacted\] HTTP\/1\.1" 301 /);
    assert.match(log, /"GET \/oauth2\/callback\?\[redacted\] HTTP\/1\.1" 200 /);
    assert.match(log, /"GET \/\?page=2 HTTP\/1\.1" 200 /);
  });
});

// When nginx cannot reach latchkey (a restart), its error log names the request as it came, a
// format nothing can change: the link pages' own locations log only critical errors, so their
// tokens stay out, while any other page still logs the failure.
describe('the error log of the generated configurations while latchkey does not answer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-error-log-'));
  const tls = makeCertificate(dir, [SITE, ID]);
  const ca = readFileSync(tls.certificate, 'utf8');
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, generate] of [['split layout', generateNginxConfig], ['--single', generateNginxSingleConfig]] as const) {
    it(`${name}: a 502 for every page, the link's and the setup link's tokens in no log, the other page's failure in the error log`, async () => {
      const nothingThere = `127.0.0.1:${await freePort()}`; // never listened on
      const [httpsPort, httpPort] = [await freePort(), await freePort()];
      const nginxDir = join(dir, name.replace(/\W/g, ''));
      mkdirSync(nginxDir);
      const plan = makePlan({
        tls, single: name === '--single', listenAddress: '127.0.0.1', httpsPort, httpPort, idUpstream: nothingThere, proxyUpstream: nothingThere, serveUpstream: nothingThere,
        defaultAccessLogPath: join(nginxDir, 'access.log'), errorLogPath: join(nginxDir, 'error.log'),
      });
      writeNginxConf(nginxDir, generate(plan));
      const nginx = await startNginx(nginxDir, httpsPort);
      try {
        const token = secret('link');
        const setupToken = secret('setup');
        for (const path of [`/lc/${token}`, `/setup?token=${setupToken}`, '/login?from=elsewhere'])
          assert.equal((await get(httpsPort, ID, path, ca)).status, 502, path);
        let errors = '';
        for (let i = 0; i < 250 && !errors.includes('/login?from=elsewhere'); i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          errors = readFileSync(join(nginxDir, 'error.log'), 'utf8');
        }
        assert.match(errors, /\[error\].*connect\(\) failed.*request: "GET \/login\?from=elsewhere HTTP\/1\.1"/, 'latchkey being down still shows');
        for (const value of [token, setupToken]) assert.ok(!errors.includes(value) && !accessLogs(nginxDir).includes(value), `${value} is in a log:\n${errors}`);
      } finally {
        await nginx.stop();
      }
    });
  }
});
