// The generated Caddyfile run by real Caddy 2.6 over TLS, in front of a stand-in proxy that answers
// /oauth2/auth by cookie: a visitor without a session is sent to sign in, a member gets the file,
// and a signed-in visitor outside the section's group gets a page saying why (not a blank 403).
// The identity provider's upstream is down here: Caddy's own log of the 502s keeps no token.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, get as httpGet, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateCaddyfile } from '../../src/deploy/caddyfile.ts';
import { makePlan } from '../../src/deploy/plan.ts';
import { startCaddy, type RunningCaddy } from '../helpers/caddy.ts';
import { freePort, onFreshPorts } from '../helpers/deploy-tools.ts';
import { edgeFetch } from '../helpers/edge-fetch.ts';
import { makeLocalCa, type LocalCa } from '../helpers/local-ca.ts';

const SITE = 'agents.example';

// What the proxy answers a check of a session it has just refreshed: the new cookie, in two parts.
const REFRESHED_COOKIES = ['_oauth2_proxy_0=new-part-one; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Lax', '_oauth2_proxy_1=new-part-two; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Lax'];

interface AuthAsked { method: string | undefined; forwardedMethod: string | undefined; forwardedUri: string | undefined }

/**
 * 202 for cookie "member" (in family), 403 for "friend" on a family rule, 401 without a cookie;
 * "due" is a friend whose session the check refreshes (202 with Set-Cookie).
 */
function startStubProxy(): Promise<{ server: Server; port: number; asked: AuthAsked[] }> {
  const asked: AuthAsked[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const who = /_oauth2_proxy=(\w+)/.exec(req.headers.cookie ?? '')?.[1];
    if (url.pathname === '/oauth2/auth') {
      asked.push({ method: req.method, forwardedMethod: req.headers['x-forwarded-method'] as string, forwardedUri: req.headers['x-forwarded-uri'] as string });
      const wantsFamily = url.searchParams.get('allowed_groups') === 'family';
      const status = !who ? 401 : wantsFamily && who !== 'member' ? 403 : 202;
      const refreshed = who === 'due' ? { 'Set-Cookie': REFRESHED_COOKIES } : {};
      res.writeHead(status, status === 202 ? { 'X-Auth-Request-User': who!, ...refreshed } : {}).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`proxy saw ${url.pathname}; return to ${req.headers['x-auth-request-redirect'] ?? '-'}`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, asked })));
}

function plainHttpGet(port: number, host: string, path: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path, headers: { host: `${host}:${port}` }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    }).on('error', reject);
  });
}

describe('the generated Caddyfile with real Caddy', () => {
  let dir: string;
  let ca: LocalCa;
  let caddy: RunningCaddy;
  let stub: Awaited<ReturnType<typeof startStubProxy>>;
  let port: number;
  let httpPort: number;
  const get = (path: string, cookie?: string, method = 'GET') => edgeFetch(`https://${SITE}${path}`, { port, caPem: ca.caPem }, cookie ? { cookie: `_oauth2_proxy=${cookie}` } : {}, method);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-caddy-'));
    ca = makeLocalCa(join(dir, 'ca'), [SITE, 'id.example']);
    const root = join(dir, 'site');
    mkdirSync(join(root, 'private', 'family'), { recursive: true });
    writeFileSync(join(root, 'index.html'), 'public home');
    writeFileSync(join(root, 'private', 'index.html'), 'private page');
    writeFileSync(join(root, 'private', 'family', 'index.html'), 'family page');
    for (const [name, text] of Object.entries({ '.git/config': '[remote "origin"]', '.env': 'SECRET=1', 'private/.env': 'PRIVATE_ENV=1', 'pub/.draft.html': 'draft',
      '.well-known/security.txt': 'Contact: mailto:x', '.well-known/.hidden': 'hidden', 'private/secret.html': 'private secret' })) {
      mkdirSync(join(root, name, '..'), { recursive: true });
      writeFileSync(join(root, name), text);
    }
    symlinkSync('../private/secret.html', join(root, 'pub', 'link.html'));
    stub = await startStubProxy();
    ({ port, httpPort, caddy } = await onFreshPorts(3, async () => {
      const [port, httpPort, idDown] = [await freePort(), await freePort(), await freePort()];
      const plan = makePlan({
        siteHost: SITE, idHost: 'id.example', siteRoot: root, httpsPort: port, httpPort,
        tls: { certificate: ca.certFile, key: ca.keyFile }, proxyUpstream: `127.0.0.1:${stub.port}`, idUpstream: `127.0.0.1:${idDown}`,
        protectedPrefixes: [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family'] }],
        listenAddress: '127.0.0.1',
      });
      return { port, httpPort, caddy: await startCaddy(dir, generateCaddyfile(plan), port) };
    }));
  });
  after(async () => {
    await caddy?.stop();
    await new Promise((resolve) => stub?.server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves public files without asking the proxy', async () => {
    const answer = await get('/');
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'public home');
  });

  it('sends a visitor without a session to sign in, carrying the page they wanted', async () => {
    const answer = await get('/private/?a=1&b=2');
    assert.match(answer.body, /proxy saw \/oauth2\/sign_in; return to https:\/\/agents\.example(:\d+)?\/private\/\?a=1&b=2/);
  });

  it('serves a protected file to a signed-in visitor, not to be stored by the browser', async () => {
    const answer = await get('/private/', 'friend');
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'private page');
    assert.equal(answer.headers['cache-control'], 'private, no-store');
  });

  it('passes every Set-Cookie line of a refreshed session to the visitor, with the file', async () => {
    // forward_auth drops them: the browser would keep the old cookie and its spent refresh token
    const answer = await get('/private/', 'due');
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'private page');
    assert.deepEqual(answer.headers['set-cookie'], REFRESHED_COOKIES);
  });

  it('sets no cookie when the session was not refreshed', async () => {
    const answer = await get('/private/', 'friend');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['set-cookie'], undefined);
  });

  it('asks with GET, naming the method and the whole address the visitor asked for', async () => {
    stub.asked.length = 0;
    await get('/private/page?a=1&b=2', 'friend', 'POST');
    assert.deepEqual(stub.asked, [{ method: 'GET', forwardedMethod: 'POST', forwardedUri: '/private/page?a=1&b=2' }]);
  });

  it('tells a signed-in visitor outside the group, with a page, not a blank 403, how to switch accounts', async () => {
    const answer = await get('/private/family/', 'friend');
    assert.equal(answer.status, 403);
    assert.match(String(answer.headers['content-type']), /text\/html/);
    assert.match(answer.body, /You are signed in, but your account does not have access here/);
    assert.match(answer.body, /<a href="\/oauth2\/sign_out\?rd=https%3A%2F%2F[^"]+%2Fapi%2Foidc%2Fend-session">sign out<\/a>/);
    assert.doesNotMatch(answer.body, /(?<!font-)family/, 'neither the page nor the name of the group that may see it');
  });

  it('redirects plain HTTP to HTTPS on the https port, which is not 443 here', async () => {
    // Caddy's automatic redirect would send both hosts to https://HOST/… (port 443)
    for (const host of [SITE, 'id.example']) {
      const answer = await plainHttpGet(httpPort, host, '/private/?a=1&b=2');
      assert.equal(answer.status, 308);
      assert.equal(answer.location, `https://${host}:${port}/private/?a=1&b=2`);
    }
  });

  it('answers 404 for dotfiles and dot-folders anywhere, protected ones included, without asking the proxy, but serves /.well-known/', async () => {
    stub.asked.length = 0;
    for (const path of ['/.git/config', '/%2egit/config', '//.git/config', '/.env', '/pub/.draft.html', '/.well-known/.hidden', '/private/.env']) {
      for (const cookie of [undefined, 'member']) {
        const answer = await get(path, cookie);
        assert.equal(answer.status, 404, `${path} ${cookie ?? ''}`);
        assert.doesNotMatch(answer.body, /origin|SECRET|PRIVATE_ENV|draft|hidden/, path);
      }
    }
    assert.deepEqual(stub.asked, [], 'refused before any check');
    assert.equal((await get('/.well-known/security.txt')).body, 'Contact: mailto:x');
  });

  it('asks for a sign-in on a protected prefix without its slash', async () => {
    assert.match((await get('/private')).body, /proxy saw \/oauth2\/sign_in; return to https:\/\/agents\.example(:\d+)?\/private$/);
    assert.equal((await get('/private/family', 'friend')).status, 403);
  });

  // What the Caddyfile's comment and docs/reverse-proxies.md warn about: Caddy 2.6 has no setting
  // against it, so the only defence is a site without symlinks (nginx and latchkey serve refuse them).
  it('still follows a symlink from a public folder into /private/ (Caddy cannot be told not to)', async () => {
    assert.equal((await get('/pub/link.html')).body, 'private secret');
  });

  it('lets a member of the group in', async () => {
    const answer = await get('/private/family/', 'member');
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'family page');
  });

  it('logs a request that failed upstream (latchkey id down) without its sign-in link, setup token or ID token', async () => {
    const secret = 'Zq8sT3cr3tT0k3nValue';
    const id = (path: string) => edgeFetch(`https://id.example${path}`, { port, caPem: ca.caPem }, { referer: `https://id.example/lc/${secret}` });
    const paths = [`/lc/${secret}`, `/setup?token=${secret}&lang=en`, `/api/oidc/end-session?id_token_hint=h.${secret}.s&client_id=app`];
    for (const path of paths) assert.equal((await id(path)).status, 502);
    let log = caddy.output();
    for (let i = 0; i < 100 && (log.match(/"logger":"http\.log\.error"/g) ?? []).length < paths.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      log = caddy.output();
    }
    assert.doesNotMatch(log, new RegExp(secret), log);
    for (const uri of ['/lc/[redacted]', '/setup?token=[redacted]&lang=en', '/api/oidc/end-session?id_token_hint=[redacted]&client_id=app']) {
      assert.ok(log.includes(`"uri":"${uri}"`), `${uri} in ${log}`);
    }
    assert.ok(log.includes('"Referer":["https://id.example/lc/[redacted]"]'), log);
  });
});
