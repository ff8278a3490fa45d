// The auth-decision cache of `latchkey generate nginx --auth-cache N`, both engines, with real
// nginx running the generated configuration in front of the real latchkey proxy (in-process), which
// signs users in at a real OIDC provider. A relay between nginx and the proxy counts the checks
// that reach the proxy, and can play a proxy that is down.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { makePlan, type AuthCacheEngine, type DeploymentPlan } from '../../src/deploy/plan.ts';
import { freePort, makeCertificate, onFreshPorts, requireNginxLuaModules, startNginx, writeNginxConf } from '../helpers/deploy-tools.ts';
import { edgeFetchHttp2 } from '../helpers/deploy-http2-fetch.ts';
import { edgeFetch, type EdgeAnswer } from '../helpers/edge-fetch.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import { CookieJar, logoutAtProvider } from '../helpers/reference-provider.ts';

const SITE = 'agents.example.com';
const ID = 'id.example.com';
const REFRESH_SECONDS = 120;
const LONG_TTL = 30;
const SHORT_TTL = 2;
/** proxy_cache stores a 202 with a validity in whole seconds of nginx's clock: up to one more. */
const clockSlackSeconds = (engine: AuthCacheEngine) => (engine === 'proxy_cache' ? 1 : 0);

const work = mkdtempSync(join(tmpdir(), 'latchkey-auth-cache-'));
after(() => rmSync(work, { recursive: true, force: true }));
const tls = makeCertificate(work, [SITE, ID]);
const caPem = readFileSync(tls.certificate, 'utf8');

// Many long group names make a session too big for one cookie (split into _0, _1 …).
const BIG_GROUPS = Array.from({ length: 60 }, (_, i) => `a-rather-long-group-name-number-${i}`);
const accounts = (login: string) => ({
  email: `${login}@example.com`,
  email_verified: true,
  groups: login.startsWith('ada') ? ['family'] : login.startsWith('big') ? ['family', ...BIG_GROUPS] : [],
});

/** Stands between nginx and the proxy: counts /oauth2/auth checks, and can play a proxy that is down. */
async function startRelay(target: string): Promise<{ port: number; checks: () => number; lastCheckHeaders: () => Record<string, string>; down: boolean; close(): Promise<void> }> {
  const to = new URL(target);
  let checks = 0;
  let lastCheckHeaders: Record<string, string> = {};
  const state = { down: false };
  const server: Server = createServer((req, res) => {
    if (state.down) return void req.socket.destroy();
    if ((req.url ?? '').startsWith('/oauth2/auth')) {
      checks++;
      lastCheckHeaders = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]).sort(([a], [b]) => a.localeCompare(b)));
    }
    const forward = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      // the raw header list keeps every Set-Cookie line as the proxy wrote it
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    checks: () => checks,
    lastCheckHeaders: () => lastCheckHeaders,
    get down() { return state.down; },
    set down(value: boolean) { state.down = value; },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

function writeSite(root: string): void {
  for (const [name, text] of Object.entries({ 'index.html': 'public home', '404.html': 'not found', 'private/page.html': 'private page', 'private/family/index.html': 'family page' })) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
}

const RULES = [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family'] }];

/** nginx with the generated configuration (optionally edited), the cache on, in front of the relay. */
async function startEdge(name: string, engine: AuthCacheEngine, ttl: number, relayPort: number, edit: (config: string) => string = (c) => c) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return onFreshPorts(3, async () => {
    const port = await freePort();
    const plan: DeploymentPlan = makePlan({
      tls, siteRoot: join(dir, 'site'), authCachePath: join(dir, 'auth-cache'), accessLogPath: join(dir, 'latchkey-access.log'), defaultAccessLogPath: join(dir, 'access.log'),
      listenAddress: '127.0.0.1', httpsPort: port, httpPort: await freePort(), proxyUpstream: `127.0.0.1:${relayPort}`, idUpstream: `127.0.0.1:${relayPort}`,
      protectedPrefixes: RULES, authCacheSeconds: ttl, authCacheEngine: engine,
    });
    writeSite(plan.siteRoot);
    writeNginxConf(dir, edit(generateNginxConfig(plan)), engine === 'lua' ? requireNginxLuaModules() : []);
    const nginx = await startNginx(dir, port);
    return { port, dir, stop: () => nginx.stop() };
  });
}

const isSignInPage = (answer: EdgeAnswer) => answer.status === 200 && /action="\/oauth2\/start"/.test(answer.body);
const setCookies = (answer: EdgeAnswer): string[] => {
  const value = answer.headers['set-cookie'];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
};
const cookieNames = (lines: string[]) => lines.map((line) => line.slice(0, line.indexOf('='))).sort();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const engine of ['proxy_cache', 'lua'] as const) {
  describe(`the auth-decision cache, engine ${engine}, with real nginx and the real latchkey proxy`, () => {
    let h: ProxyHarness;
    let relay: Awaited<ReturnType<typeof startRelay>>;
    let edge: Awaited<ReturnType<typeof startEdge>>;
    let shortEdge: Awaited<ReturnType<typeof startEdge>>;
    let startMs = 0;

    before(async () => {
      h = await startProxyHarness({ accounts, config: {
        setXAuthRequest: true, reverseProxy: true, cookie: { refreshSeconds: REFRESH_SECONDS },
        // --skip-auth-route=OPTIONS=^/ (what docs/configuration-proxy.md gives for --skip-auth-preflight) and a public corner of /private/
        skipAuthRoutes: [{ method: 'OPTIONS', pathPattern: /^\// }, { method: null, pathPattern: /^\/private\/preview\// }],
      } });
      startMs = h.clock.nowMs();
      relay = await startRelay(h.proxyUrl);
      edge = await startEdge(`${engine}-long`, engine, LONG_TTL, relay.port);
      shortEdge = await startEdge(`${engine}-short`, engine, SHORT_TTL, relay.port);
    });
    after(async () => {
      await edge?.stop();
      await shortEdge?.stop();
      await relay?.close();
      await h?.close();
    });
    // the refresh tests move the proxy's (manual) clock; put it back
    afterEach(() => {
      h.clock.advanceMs(startMs - h.clock.nowMs());
      relay.down = false;
    });

    /** A fresh sign-in of `login`; its Cookie header as a browser would send it to the site. */
    const signIn = async (login: string): Promise<{ cookie: string; jar: CookieJar }> => {
      const { jar } = await h.signIn(login);
      const cookie = jar.header(h.proxyUrl);
      assert.match(cookie, /_oauth2_proxy/);
      return { cookie, jar };
    };
    const get = (path: string, headers: Record<string, string> = {}, port = edge.port) => edgeFetch(`https://${SITE}:${port}${path}`, { port, caPem }, headers);

    it('admits a valid session, then answers from the cache without asking the proxy, even while the proxy is down', async () => {
      const { cookie } = await signIn('ada');
      const before = relay.checks();
      for (let i = 0; i < 3; i++) {
        const answer = await get('/private/page.html', { cookie });
        assert.equal(answer.status, 200);
        assert.equal(answer.body, 'private page');
      }
      assert.equal(relay.checks() - before, 1, 'only the first request reached the proxy');
      relay.down = true;
      assert.equal((await get('/private/page.html', { cookie })).body, 'private page', 'a cached decision needs no proxy');
    });

    it('passes the proxy only the session cookie and the headers the check reads, not the rest of a browser\'s request (with and without the cache)', async () => {
      const browser = {
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
        accept: 'text/html,application/xhtml+xml', 'accept-language': 'en-GB,en;q=0.9', 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate',
        'sec-fetch-dest': 'document', referer: `https://${SITE}/`, authorization: 'Basic eDp5', 'x-forwarded-uri': '/public', 'x-auth-request-user': 'forged',
        // a client behind another proxy: nginx appends the address it sees ($proxy_add_x_forwarded_for)
        'x-forwarded-for': '203.0.113.9',
      };
      const uncached = engine === 'proxy_cache' ? await startEdge('no-cache', engine, 0, relay.port) : null;
      try {
        for (const port of [edge.port, ...(uncached ? [uncached.port] : [])]) {
          const { cookie } = await signIn(`ada-headers-${port}`);
          const before = relay.checks();
          const answer = await get('/private/page.html?a=1', { cookie, ...browser }, port);
          assert.equal(answer.body, 'private page');
          assert.equal(relay.checks() - before, 1);
          // the same headers, with the same values, whichever engine asks
          assert.deepEqual(relay.lastCheckHeaders(), {
            cookie, host: `${SITE}:${port}`, 'x-forwarded-for': '203.0.113.9, 127.0.0.1', 'x-forwarded-host': `${SITE}:${port}`, 'x-forwarded-method': 'GET',
            'x-forwarded-proto': 'https', 'x-forwarded-uri': '/private/page.html?a=1', 'x-real-ip': '127.0.0.1',
          });
        }
      } finally {
        await uncached?.stop();
      }
    });

    it('never keeps the pass a --skip-auth-route gives: made-up credentials that passed on a skip route still meet the sign-in elsewhere', async () => {
      for (const [index, skipped] of [['GET', '/private/preview/nothing.html'], ['OPTIONS', '/private/page.html']].entries()) {
        const cookie = `made-up=${engine}-${index}`;
        const before = relay.checks();
        const passed = await edgeFetch(`https://${SITE}:${edge.port}${skipped[1]}`, { port: edge.port, caPem }, { cookie }, skipped[0]);
        assert.equal(relay.checks() - before, 1, `${skipped.join(' ')} was asked about`);
        assert.notEqual(passed.status, 401, `${skipped.join(' ')} passed the check (nginx answers it ${passed.status})`);
        const elsewhere = await get('/private/page.html', { cookie });
        assert.doesNotMatch(elsewhere.body, /private page/, `after ${skipped.join(' ')}`);
        assert.ok(isSignInPage(elsewhere), `expected the sign-in page after ${skipped.join(' ')}, got ${elsewhere.status}`);
      }
    });

    it('fails closed: with the proxy down, credentials it has not admitted get a 500 and no page', async () => {
      const { cookie } = await signIn('bob');
      relay.down = true;
      const answer = await get('/private/page.html', { cookie });
      assert.equal(answer.status, 500);
      assert.doesNotMatch(answer.body, /private page/);
    });

    it('keeps a revoked session in for at most the cache time, then sends it to sign in', async () => {
      const { cookie, jar } = await signIn('ada-revoked');
      const first = await get('/private/page.html', { cookie }, shortEdge.port);
      const cachedBy = Date.now(); // the decision was stored before its answer arrived
      assert.equal(first.body, 'private page');
      await logoutAtProvider(jar, h.op.issuer); // back-channel logout: the proxy revokes the session
      assert.equal((await h.authCheck(null, { headers: { cookie } })).status, 401, 'the proxy itself refuses it now');

      const sentAt = Date.now();
      const during = await get('/private/page.html', { cookie }, shortEdge.port);
      if (during.body === 'private page')
        assert.ok(sentAt - cachedBy < (SHORT_TTL + clockSlackSeconds(engine)) * 1000 + 250, `admitted ${sentAt - cachedBy} ms after the decision was cached`);

      await sleep(Math.max(0, cachedBy + (SHORT_TTL + clockSlackSeconds(engine)) * 1000 + 300 - Date.now()));
      const afterTtl = await get('/private/page.html', { cookie }, shortEdge.port);
      assert.doesNotMatch(afterTtl.body, /private page/);
      assert.ok(isSignInPage(afterTtl), `expected the sign-in page, got ${afterTtl.status}: ${afterTtl.body.slice(0, 200)}`);
      assert.ok(setCookies(afterTtl).some((l) => /^_oauth2_proxy=;/.test(l) && /Max-Age=0/i.test(l)), `the proxy's deletion of the ended session reaches the browser: ${setCookies(afterTtl)}`);
    });

    it('asks the proxy again once a decision has expired, keeps the new one, and still notices a later revocation', async () => {
      // the proxy_cache engine keeps cache files open between hits: the file of an expired
      // decision must never stand in for the next one
      const { cookie, jar } = await signIn('ada-twice');
      const pastCacheTime = () => sleep((SHORT_TTL + clockSlackSeconds(engine)) * 1000 + 300);
      assert.equal((await get('/private/page.html', { cookie }, shortEdge.port)).body, 'private page');
      await pastCacheTime();
      const before = relay.checks();
      assert.equal((await get('/private/page.html', { cookie }, shortEdge.port)).body, 'private page');
      assert.equal(relay.checks() - before, 1, 'the expired decision is asked again');
      assert.equal((await get('/private/page.html', { cookie }, shortEdge.port)).body, 'private page');
      assert.equal(relay.checks() - before, 1, 'and the new one is answered from the cache');
      await logoutAtProvider(jar, h.op.issuer);
      await pastCacheTime();
      const afterRevocation = await get('/private/page.html', { cookie }, shortEdge.port);
      assert.ok(isSignInPage(afterRevocation), `expected the sign-in page, got ${afterRevocation.status}: ${afterRevocation.body.slice(0, 200)}`);
    });

    it('asks the proxy again for every 401 and shows the sign-in each time', async () => {
      const before = relay.checks();
      for (let i = 0; i < 3; i++) {
        const answer = await get('/private/page.html', { cookie: '_oauth2_proxy=forged' });
        assert.ok(isSignInPage(answer), `${answer.status}: ${answer.body.slice(0, 200)}`);
      }
      assert.equal(relay.checks() - before, 3);
    });

    it('asks the proxy again for every 403 and shows the refusal page each time', async () => {
      const { cookie } = await signIn('bob');
      const before = relay.checks();
      for (let i = 0; i < 3; i++) {
        const answer = await get('/private/family/', { cookie });
        assert.equal(answer.status, 403);
        assert.match(answer.body, /You are signed in, but your account does not have access here/);
      }
      assert.equal(relay.checks() - before, 3);
    });

    it('never lets two rules share a decision', async () => {
      const { cookie: bob } = await signIn('bob');
      assert.equal((await get('/private/page.html', { cookie: bob })).body, 'private page');
      const before = relay.checks();
      const family = await get('/private/family/', { cookie: bob });
      assert.equal(family.status, 403, "bob's /private/ decision must not open /private/family/");
      assert.equal(relay.checks() - before, 1);

      const { cookie: ada } = await signIn('ada');
      assert.equal((await get('/private/family/', { cookie: ada })).body, 'family page');
      const beforeAda = relay.checks();
      assert.equal((await get('/private/page.html', { cookie: ada })).body, 'private page');
      assert.equal((await get('/private/page.html', { cookie: ada })).body, 'private page');
      assert.equal(relay.checks() - beforeAda, 1, '/private/ was asked once, then cached for itself');
    });

    it('never answers other credentials from a cached entry', async () => {
      const { cookie } = await signIn('ada');
      assert.equal((await get('/private/page.html', { cookie })).body, 'private page');
      let before = relay.checks();
      // a character in the middle of the sealed value (the last one may only carry padding bits)
      const middle = cookie.indexOf('_oauth2_proxy=') + '_oauth2_proxy='.length + 40;
      const forged = await get('/private/page.html', { cookie: cookie.slice(0, middle) + (cookie[middle] === 'A' ? 'B' : 'A') + cookie.slice(middle + 1) });
      assert.ok(isSignInPage(forged), 'a changed cookie value is asked about, and refused');
      assert.equal(relay.checks() - before, 1);

      for (const headers of [{ cookie: `${cookie}; theme=dark` }, { cookie, authorization: 'Bearer something' }] as Record<string, string>[]) {
        before = relay.checks();
        assert.equal((await get('/private/page.html', headers)).body, 'private page');
        assert.equal(relay.checks() - before, 1, `${Object.keys(headers).join(', ')} differ: another entry`);
      }
    });

    it("passes a refreshed session's Set-Cookie to the browser and never caches that answer", async () => {
      const { cookie } = await signIn('ada');
      h.clock.advanceMs((REFRESH_SECONDS + 1) * 1000);
      const before = relay.checks();
      for (let i = 0; i < 2; i++) {
        const answer = await get('/private/page.html', { cookie });
        assert.equal(answer.body, 'private page');
        assert.deepEqual(cookieNames(setCookies(answer)), ['_oauth2_proxy']);
      }
      assert.equal(relay.checks() - before, 2, 'both requests reached the proxy');
    });

    if (engine === 'proxy_cache')
      it('keeps its files (each holds the Cookie header it was asked for, session included) where only nginx\'s user can read them', async () => {
        const { cookie } = await signIn('ada-files');
        assert.equal((await get('/private/page.html', { cookie })).body, 'private page');
        const folder = join(edge.dir, 'auth-cache');
        const entries = readdirSync(folder, { recursive: true, withFileTypes: true });
        const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
        assert.ok(files.some((file) => readFileSync(file, 'latin1').includes(cookie)), 'the exposure docs/reverse-proxies.md describes');
        for (const path of [folder, ...entries.map((e) => join(e.parentPath, e.name))])
          assert.equal(statSync(path).mode & 0o077, 0, `${path} is mode ${(statSync(path).mode & 0o777).toString(8)}`);
      });

    it('never caches requests without credentials, and sends them to sign in', async () => {
      const before = relay.checks();
      for (let i = 0; i < 2; i++) assert.ok(isSignInPage(await get('/private/page.html')));
      assert.equal(relay.checks() - before, 2);
    });

    it("passes every Set-Cookie line of a refreshed split session to the browser (nginx's auth_request alone keeps only the first)", async () => {
      const { cookie } = await signIn('big');
      assert.match(cookie, /_oauth2_proxy_1=/, 'the session is split into several cookies');
      h.clock.advanceMs((REFRESH_SECONDS + 1) * 1000);
      const direct = (await h.authCheck(null, { headers: { cookie } })).headers.getSetCookie();
      assert.ok(direct.length >= 2, `the proxy refreshes with several Set-Cookie lines: ${cookieNames(direct)}`);
      const before = relay.checks();
      // the file itself: /private/family/ would be checked twice (again after the index redirect)
      const answer = await get('/private/family/index.html', { cookie });
      assert.equal(answer.body, 'family page');
      assert.deepEqual(cookieNames(setCookies(answer)), cookieNames(direct));
      assert.equal((await get('/private/family/index.html', { cookie })).body, 'family page');
      assert.equal(relay.checks() - before, 2, 'a refresh is never cached');
    });

    // Browsers speak HTTP/2 to the generated server (listen … ssl http2). lua-nginx-module 0.10.23
    // refuses ngx.location.capture in an HTTP/2 request ("http2 requests not supported yet"): every
    // browser got a 500 from the Lua engine while HTTP/1.1 clients (curl, wrk, these tests) passed.
    describe('over HTTP/2, as browsers ask', () => {
      const get2 = (path: string, headers: Record<string, string> = {}) => edgeFetchHttp2(`https://${SITE}:${edge.port}${path}`, { port: edge.port, caPem }, headers);

      it('asks the proxy on a miss, answers the next request from the cache', async () => {
        const { cookie } = await signIn('ada-h2');
        const before = relay.checks();
        const miss = await get2('/private/page.html', { cookie });
        assert.equal(miss.alpn, 'h2');
        assert.equal(miss.status, 200, miss.body.slice(0, 200));
        assert.equal(miss.body, 'private page');
        assert.equal(relay.checks() - before, 1, 'a miss asks the proxy');
        const hit = await get2('/private/page.html', { cookie });
        assert.equal(hit.body, 'private page');
        assert.equal(relay.checks() - before, 1, 'a hit does not');
        // the cookie crumbs are joined as the proxy joins them: the HTTP/1.1 entry is the same one
        assert.equal((await get('/private/page.html', { cookie })).body, 'private page');
        assert.equal(relay.checks() - before, 1);
        const family = await get2('/private/family/', { cookie });
        assert.equal(family.body, 'family page');
      });

      it('shows the sign-in page without a session, and the refusal page outside the groups', async () => {
        const anonymous = await get2('/private/page.html');
        assert.equal(anonymous.alpn, 'h2');
        assert.ok(isSignInPage(anonymous), `${anonymous.status}: ${anonymous.body.slice(0, 200)}`);
        const forged = await get2('/private/page.html', { cookie: '_oauth2_proxy=forged; theme=dark' });
        assert.ok(isSignInPage(forged), `${forged.status}: ${forged.body.slice(0, 200)}`);
        const { cookie } = await signIn('bob-h2');
        const refused = await get2('/private/family/', { cookie });
        assert.equal(refused.status, 403);
        assert.match(refused.body, /does not have access here/);
      });

      it("passes every Set-Cookie line of a refreshed (split) session to the browser, and never caches it", async () => {
        const { cookie } = await signIn('big-h2');
        assert.match(cookie, /_oauth2_proxy_1=/);
        h.clock.advanceMs((REFRESH_SECONDS + 1) * 1000);
        const direct = (await h.authCheck(null, { headers: { cookie } })).headers.getSetCookie();
        const before = relay.checks();
        for (let i = 0; i < 2; i++) {
          const answer = await get2('/private/family/index.html', { cookie });
          assert.equal(answer.body, 'family page');
          assert.deepEqual(cookieNames(setCookies(answer)), cookieNames(direct));
        }
        assert.equal(relay.checks() - before, 2, 'a refresh is never cached');
      });
    });
  });
}

describe('the Lua engine fails closed', () => {
  it('answers 500, never the page, when the check itself raises an error', async () => {
    const relay = await startRelay('http://127.0.0.1:9'); // never reached: the check fails first
    const broken = (config: string) => {
      const marker = 'local function check(rule, path)\n';
      assert.ok(config.includes(marker), 'the generated Lua changed; update the test');
      return config.replace(marker, `${marker}        error("a bug in the check")\n`);
    };
    let edge: Awaited<ReturnType<typeof startEdge>> | undefined;
    try {
      // inside the try: if nginx cannot start, the relay must still be closed, or the file never ends
      edge = await startEdge('lua-broken', 'lua', LONG_TTL, relay.port, broken);
      const answer = await edgeFetch(`https://${SITE}:${edge.port}/private/page.html`, { port: edge.port, caPem }, { cookie: '_oauth2_proxy=anything' });
      assert.equal(answer.status, 500);
      assert.doesNotMatch(answer.body, /private page/);
      assert.match(readFileSync(join(edge.dir, 'error.log'), 'utf8'), /a bug in the check/);
    } finally {
      await edge?.stop();
      await relay.close();
    }
  });
});
