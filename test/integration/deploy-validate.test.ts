import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCaddyfile } from '../../src/deploy/caddyfile.ts';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { generateNginxPublicConfig } from '../../src/deploy/nginx-public-config.ts';
import { generateNginxSingleConfig } from '../../src/deploy/nginx-single-config.ts';
import { DEFAULT_PLAN, makePlan, type DeploymentPlan } from '../../src/deploy/plan.ts';
import { generateSystemdUnits } from '../../src/deploy/systemd-units.ts';
import { validateRedirect } from '../../src/proxy/redirect.ts';
import { addRelayedCookies } from '../../src/proxy/relayed-cookies.ts';
import { freePort, makeCertificate, nginxTest, onFreshPorts, requireNginxLuaModules, requireTool, startNginx, writeNginxConf } from '../helpers/deploy-tools.ts';

const SITE = 'agents.example.com';
const ID = 'id.example.com';
const REPO = new URL('../..', import.meta.url).pathname;

const work = mkdtempSync(join(tmpdir(), 'latchkey-deploy-'));
after(() => rmSync(work, { recursive: true, force: true }));
const tls = makeCertificate(work, [SITE, ID]);

/** A plan whose every path lies in its own folder under the test's temporary directory. */
function testPlan(name: string, overrides: Partial<DeploymentPlan> = {}): { dir: string; plan: DeploymentPlan } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const plan = makePlan({
    tls,
    siteRoot: join(dir, 'site'),
    authCachePath: join(dir, 'auth-cache'),
    accessLogPath: join(dir, 'latchkey-access.log'),
    defaultAccessLogPath: join(dir, 'access.log'),
    ...overrides,
  });
  return { dir, plan };
}

const family = [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family', 'admins'] }];

describe('every generated nginx configuration passes nginx -t', () => {
  const variants: Record<string, [(plan: DeploymentPlan) => string, Partial<DeploymentPlan>]> = {
    'the default (auth for /private/)': [generateNginxConfig, {}],
    'nested prefixes with groups and the auth cache': [generateNginxConfig, { protectedPrefixes: family, authCacheSeconds: 30 }],
    'a renamed cookie, no access logs, loopback ports': [generateNginxConfig, { cookieName: 'session', accessLogPath: null, defaultAccessLogPath: null, authCacheSeconds: 5, listenAddress: '127.0.0.1', httpsPort: 8443, httpPort: 8080 }],
    'nested prefixes with groups and the Lua auth cache': [generateNginxConfig, { protectedPrefixes: family, authCacheSeconds: 30, authCacheEngine: 'lua' }],
    'the Lua auth cache without an access log': [generateNginxConfig, { accessLogPath: null, authCacheSeconds: 1, authCacheEngine: 'lua' }],
    'the rollback (--public)': [generateNginxPublicConfig, {}],
    'in front of latchkey serve (--single)': [generateNginxSingleConfig, {}],
  };
  for (const [name, [generate, overrides]] of Object.entries(variants)) {
    it(`accepts ${name}`, () => {
      const { dir, plan } = testPlan(`nginx-t-${Object.keys(variants).indexOf(name)}`, overrides);
      writeNginxConf(dir, generate(plan), plan.authCacheSeconds && plan.authCacheEngine === 'lua' ? requireNginxLuaModules() : []);
      const result = nginxTest(dir);
      assert.equal(result.status, 0, result.output);
      assert.match(result.output, /test is successful/);
      assert.doesNotMatch(result.output, /\[warn\]/, 'nginx warned about the generated configuration');
    });
  }
});

describe('every generated Caddyfile passes caddy validate', () => {
  const variants: Record<string, Partial<DeploymentPlan>> = {
    'the default with automatic certificates': {},
    'nested prefixes with groups and given certificates': { protectedPrefixes: family, tls },
    'loopback test ports': { listenAddress: '127.0.0.1', httpsPort: 8443, httpPort: 8080, tls },
    'the rollback (--public)': { public: true },
    'in front of latchkey serve (--single)': { single: true },
  };
  for (const [name, overrides] of Object.entries(variants)) {
    it(`accepts ${name}`, () => {
      const { dir, plan } = testPlan(`caddy-${Object.keys(variants).indexOf(name)}`, overrides);
      const file = join(dir, 'Caddyfile');
      writeFileSync(file, generateCaddyfile({ ...plan, tls: overrides.tls ?? makePlan().tls }));
      const result = spawnSync(requireTool('caddy'), ['validate', '--config', file, '--adapter', 'caddyfile'], {
        encoding: 'utf8',
        env: { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
      });
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout + result.stderr, /Valid configuration/);
    });
  }
});

describe('every generated systemd unit passes systemd-analyze verify', () => {
  // With a group rule the proxy's ExecStart has a double-quoted argument (--scope with spaces).
  for (const [single, groups] of [[false, false], [true, false], [false, true]]) {
    it(`accepts the ${single ? 'latchkey serve unit' : 'latchkey id and proxy units'}${groups ? ' with a prefix for a group' : ''}`, () => {
      const { dir } = testPlan(`systemd-${single}-${groups}`);
      const protectedPrefixes = groups ? family : DEFAULT_PLAN.protectedPrefixes;
      // the checkout under test, so that ExecStart names a program that exists
      const text = generateSystemdUnits(makePlan({ single, protectedPrefixes, installDir: REPO.replace(/\/$/, '') }));
      const files = text.split(/^# file: \/etc\/systemd\/system\//m).slice(1).map((part) => {
        const name = part.slice(0, part.indexOf('\n'));
        writeFileSync(join(dir, name), part.slice(name.length + 1));
        return join(dir, name);
      });
      assert.equal(files.length, single ? 1 : 2);
      const result = spawnSync(requireTool('systemd-analyze'), ['verify', ...files], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr.trim(), '', 'systemd-analyze reported problems');
    });
  }
});

// --- nginx, really running the generated configuration ---------------------------------------

interface Seen { url: string; headers: IncomingHttpHeaders }

const RENEWED = ['_oauth2_proxy_0=renewed-a; Path=/; Secure; HttpOnly', '_oauth2_proxy_1=renewed-b; Path=/; Secure; HttpOnly'];

/** Stands in for `latchkey proxy`: a session cookie decides /oauth2/auth, sign_in echoes what it got. */
async function startStubProxy(cookieName: string): Promise<{ server: Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const path = (req.url ?? '').split('?')[0];
    const cookie = req.headers.cookie ?? '';
    if (path === '/oauth2/auth') {
      if (cookie.includes(`${cookieName}=valid`)) return res.writeHead(202, { 'X-Auth-Request-User': 'alice', 'X-Auth-Request-Email': 'alice@example.com' }).end();
      if (cookie.includes(`${cookieName}=outsider`)) return res.writeHead(403).end();
      if (cookie.includes(`${cookieName}=stale`)) {
        // a refresh into a split session: two lines, sent as the real proxy sends them
        const headers: Record<string, unknown> = { 'X-Auth-Request-User': 'alice', 'Set-Cookie': RENEWED };
        addRelayedCookies(headers, RENEWED);
        return res.writeHead(202, headers as OutgoingHttpHeaders).end();
      }
      return res.writeHead(401).end();
    }
    // the real proxy's validator: a return address on another host than the request's would become '/'
    const redirect = req.headers['x-auth-request-redirect'] ?? null;
    const accepted = typeof redirect === 'string' ? validateRedirect(redirect, { requestHost: req.headers.host ?? '', whitelistDomains: [] }) : null;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ stub: req.url, redirect, accepted }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, seen };
}

function writeSite(root: string): void {
  const files: Record<string, string> = {
    'index.html': 'public home',
    'index.xml': 'public feed',
    '404.html': 'not found page',
    'private/index.html': 'private home',
    'private/page.html': 'private page',
    'private/feed.xml': 'private feed',
    'private/family/index.html': 'family page',
    'private/no-index/notes.txt': 'a folder without index.html',
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
}

/** What a site owner might add later: feeds get their own location, a regex one. */
function addUsersXmlLocation(config: string): string {
  const marker = '    # Public content: no auth.';
  assert.ok(config.includes(marker), 'the generated site server changed; update the test');
  return config.replace(marker, '    location ~* \\.xml$ {\n        add_header X-Feed yes;\n        try_files $uri =404;\n    }\n\n' + marker);
}

interface Answer { status: number; headers: IncomingHttpHeaders; body: string }

function get(port: number, path: string, options: { cookie?: string; https?: boolean } = {}): Promise<Answer> {
  const useHttps = options.https ?? true;
  const headers: Record<string, string> = { Host: `${SITE}:${port}` };
  if (options.cookie) headers.Cookie = options.cookie;
  return new Promise((resolve, reject) => {
    const callback = (res: import('node:http').IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    };
    const req = useHttps
      ? httpsRequest({ host: '127.0.0.1', port, path, headers, servername: SITE, ca: readFileSync(tls.certificate), agent: false }, callback)
      : httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, callback);
    req.on('error', reject);
    req.end();
  });
}

async function runningEdge(name: string, overrides: Partial<DeploymentPlan>) {
  const stub = await startStubProxy('_oauth2_proxy');
  const closeStub = () => new Promise((resolve) => stub.server.close(resolve));
  try {
    const { httpsPort, httpPort, nginx } = await onFreshPorts(3, async () => {
      const httpsPort = await freePort();
      const httpPort = await freePort();
      const { dir, plan } = testPlan(name, {
        listenAddress: '127.0.0.1',
        httpsPort,
        httpPort,
        proxyUpstream: `127.0.0.1:${stub.port}`,
        idUpstream: `127.0.0.1:${stub.port}`,
        protectedPrefixes: family,
        ...overrides,
      });
      writeSite(plan.siteRoot);
      writeNginxConf(dir, addUsersXmlLocation(generateNginxConfig(plan)));
      return { httpsPort, httpPort, nginx: await startNginx(dir, httpsPort) };
    });
    return {
      httpsPort,
      httpPort,
      stub,
      stop: async () => {
        await nginx.stop();
        await closeStub();
      },
    };
  } catch (error) {
    await closeStub(); // a listening stub would keep the test process alive
    throw error;
  }
}

const authCalls = (seen: Seen[]) => seen.filter((s) => s.url.startsWith('/oauth2/auth'));

describe('nginx running the generated configuration in front of a stand-in proxy', () => {
  let edge: Awaited<ReturnType<typeof runningEdge>>;
  before(async () => (edge = await runningEdge('running', {})));
  after(() => edge?.stop());

  it('serves public pages with HSTS and without asking the proxy', async () => {
    const before = authCalls(edge.stub.seen).length;
    const answer = await get(edge.httpsPort, '/');
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'public home');
    assert.match(String(answer.headers['strict-transport-security']), /max-age=\d+/);
    assert.equal(authCalls(edge.stub.seen).length, before);
  });

  it('shows a visitor without a session the sign-in, carrying the whole original address back', async () => {
    const answer = await get(edge.httpsPort, '/private/page.html?a=1&b=2');
    assert.doesNotMatch(answer.body, /private page/);
    const echoed = JSON.parse(answer.body);
    assert.equal(echoed.stub, '/oauth2/sign_in');
    assert.equal(echoed.redirect, `https://${SITE}:${edge.httpsPort}/private/page.html?a=1&b=2`);
  });

  it('sends a return address that the proxy\'s redirect validator accepts', async () => {
    const echoed = JSON.parse((await get(edge.httpsPort, '/private/page.html?a=1')).body);
    assert.equal(echoed.accepted, `https://${SITE}:${edge.httpsPort}/private/page.html?a=1`);
  });

  it('does not let the page address\'s own query reach the sign-in as parameters', async () => {
    const echoed = JSON.parse((await get(edge.httpsPort, '/private/page.html?rd=https://evil.example/')).body);
    assert.equal(echoed.stub, '/oauth2/sign_in');
  });

  it('serves a protected page once the proxy accepts the session', async () => {
    const answer = await get(edge.httpsPort, '/private/page.html', { cookie: '_oauth2_proxy=valid' });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'private page');
    assert.equal(answer.headers['cache-control'], 'private, no-store');
  });

  it('passes a session cookie the proxy refreshed during the auth check on to the browser', async () => {
    const answer = await get(edge.httpsPort, '/private/page.html', { cookie: '_oauth2_proxy=stale' });
    assert.equal(answer.body, 'private page');
    assert.deepEqual(answer.headers['set-cookie'], RENEWED);
  });

  it("keeps a private .xml behind auth although the owner added a regex location for .xml", async () => {
    const publicFeed = await get(edge.httpsPort, '/index.xml');
    assert.equal(publicFeed.headers['x-feed'], 'yes', 'the added regex location is not in effect, so this test proves nothing');
    const privateFeed = await get(edge.httpsPort, '/private/feed.xml');
    assert.doesNotMatch(privateFeed.body, /private feed/);
    assert.equal(JSON.parse(privateFeed.body).redirect, `https://${SITE}:${edge.httpsPort}/private/feed.xml`);
  });

  it('does not serve the private index at /private, without the trailing slash', async () => {
    const answer = await get(edge.httpsPort, '/private');
    assert.doesNotMatch(answer.body, /private home/);
  });

  it("asks the proxy with the allowed_groups of the prefix being visited, and none for /private/", async () => {
    const family = await get(edge.httpsPort, '/private/family/', { cookie: '_oauth2_proxy=valid' });
    assert.equal(family.body, 'family page');
    assert.equal(authCalls(edge.stub.seen).at(-1)?.url, '/oauth2/auth?allowed_groups=family,admins');
    await get(edge.httpsPort, '/private/', { cookie: '_oauth2_proxy=valid' });
    assert.equal(authCalls(edge.stub.seen).at(-1)?.url, '/oauth2/auth');
  });

  it('shows a signed-in visitor whom the proxy refuses a 403 page, not a redirect, that does not name the prefix\'s groups', async () => {
    const answer = await get(edge.httpsPort, '/private/family/', { cookie: '_oauth2_proxy=outsider' });
    assert.equal(answer.status, 403);
    assert.equal(answer.headers.location, undefined);
    assert.match(String(answer.headers['content-type']), /^text\/html/);
    assert.doesNotMatch(answer.body, /family page/);
    assert.match(answer.body, /You are signed in, but your account does not have access here/);
    assert.match(answer.body, /<a href="\/oauth2\/sign_out\?rd=https%3A%2F%2F[^"]+%2Fapi%2Foidc%2Fend-session">sign out<\/a>/);
    assert.doesNotMatch(answer.body, /(?<!font-)family|admins/); // font-family is CSS
    const plain = await get(edge.httpsPort, '/private/page.html', { cookie: '_oauth2_proxy=outsider' });
    assert.equal(plain.status, 403);
    assert.match(plain.body, /You are signed in, but your account does not have access here/);
  });

  it('keeps nginx\'s own 403 for a protected folder without index.html, which is no refusal of the visitor', async () => {
    const answer = await get(edge.httpsPort, '/private/no-index/', { cookie: '_oauth2_proxy=valid' });
    assert.equal(answer.status, 403);
    assert.doesNotMatch(answer.body, /signed in/);
    assert.match(answer.body, /403 Forbidden/);
  });

  it('tells the proxy the scheme, host and address the visitor asked for', async () => {
    await get(edge.httpsPort, '/private/page.html?x=1', { cookie: '_oauth2_proxy=valid' });
    const headers = authCalls(edge.stub.seen).at(-1)!.headers;
    assert.equal(headers['x-forwarded-proto'], 'https');
    assert.equal(headers.host, `${SITE}:${edge.httpsPort}`);
    assert.equal(headers['x-forwarded-uri'], '/private/page.html?x=1');
    assert.equal(headers.cookie, '_oauth2_proxy=valid');
  });

  it('redirects plain HTTP to the same address over HTTPS', async () => {
    const answer = await get(edge.httpPort, '/private/page.html?a=1', { https: false });
    assert.equal(answer.status, 301);
    assert.equal(answer.headers.location, `https://${SITE}:${edge.httpsPort}/private/page.html?a=1`);
  });
});

describe('nginx with the auth-decision cache on', () => {
  let edge: Awaited<ReturnType<typeof runningEdge>>;
  before(async () => (edge = await runningEdge('cached', { authCacheSeconds: 30 })));
  after(() => edge?.stop());

  it('answers a repeated check of an allowed session from its cache', async () => {
    const before = authCalls(edge.stub.seen).length;
    for (let i = 0; i < 3; i++) assert.equal((await get(edge.httpsPort, '/private/page.html', { cookie: '_oauth2_proxy=valid' })).body, 'private page');
    assert.equal(authCalls(edge.stub.seen).length - before, 1);
  });

  it('asks the proxy again every time it refused a session', async () => {
    const before = authCalls(edge.stub.seen).length;
    for (let i = 0; i < 3; i++) assert.doesNotMatch((await get(edge.httpsPort, '/private/page.html', { cookie: '_oauth2_proxy=expired' })).body, /private page/);
    assert.equal(authCalls(edge.stub.seen).length - before, 3);
  });

  it('never stores an answer that refreshes the session cookie', async () => {
    const before = authCalls(edge.stub.seen).length;
    for (let i = 0; i < 2; i++) {
      const answer = await get(edge.httpsPort, '/private/page.html', { cookie: '_oauth2_proxy=stale' });
      assert.deepEqual(answer.headers['set-cookie'], RENEWED);
    }
    assert.equal(authCalls(edge.stub.seen).length - before, 2);
  });
});

describe('nginx running the generated configuration in front of the real latchkey proxy', () => {
  let proxy: ReturnType<typeof spawn>;
  let nginx: Awaited<ReturnType<typeof startNginx>>;
  let httpsPort: number;

  before(async () => {
    const proxyPort = await freePort();
    // the issuer never resolves: sign-in pages and auth checks work without discovery
    proxy = spawn(process.execPath, [
      join(REPO, 'src/main.ts'), 'proxy', `--http-address=127.0.0.1:${proxyPort}`, '--client-id=site', '--client-secret=not-used',
      '--cookie-secret=0123456789abcdef0123456789abcdef', '--oidc-issuer-url=https://id.example.invalid', '--email-domain=*',
      '--upstream=static://202', '--reverse-proxy=true', '--set-xauthrequest=true', '--log-level=error',
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    const deadline = Date.now() + 10_000;
    while (!(await fetch(`http://127.0.0.1:${proxyPort}/ping`).then((r) => r.ok, () => false))) {
      if (Date.now() > deadline || proxy.exitCode !== null) throw new Error('latchkey proxy did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    ({ httpsPort, nginx } = await onFreshPorts(3, async () => {
      const httpsPort = await freePort();
      const { dir, plan } = testPlan('real-proxy', { listenAddress: '127.0.0.1', httpsPort, httpPort: await freePort(), proxyUpstream: `127.0.0.1:${proxyPort}` });
      writeSite(plan.siteRoot);
      writeNginxConf(dir, generateNginxConfig(plan));
      return { httpsPort, nginx: await startNginx(dir, httpsPort) };
    }));
  });
  after(async () => {
    await nginx?.stop();
    if (proxy && proxy.exitCode === null) await new Promise((resolve) => (proxy.once('exit', resolve), proxy.kill('SIGTERM')));
  });

  it("shows the proxy's sign-in page, which returns the visitor to the whole original address", async () => {
    const answer = await get(httpsPort, '/private/page.html?a=1&b=2');
    assert.equal(answer.status, 200);
    assert.doesNotMatch(answer.body, /private page/);
    assert.match(answer.body, /action="\/oauth2\/start"/);
    assert.ok(answer.body.includes(`name="rd" value="https://${SITE}:${httpsPort}/private/page.html?a=1&amp;b=2"`), answer.body);
  });

  it('refuses a forged session cookie the same way', async () => {
    const answer = await get(httpsPort, '/private/page.html', { cookie: '_oauth2_proxy=forged' });
    assert.doesNotMatch(answer.body, /private page/);
    assert.match(answer.body, /action="\/oauth2\/start"/);
  });
});
