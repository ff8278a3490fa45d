// latchkey's own log lines never carry a secret that arrived in a URL: a one-time sign-in link
// (/lc/TOKEN), the setup link (/setup?token=…), an authorization code on /oauth2/callback, an ID
// token as id_token_hint, or an application's own ?token= on a request the proxy passes on.
// latchkey id, latchkey proxy and latchkey serve run at their most verbose level with every log
// line captured, and are sent each of these the ways that succeed and the ways that fail.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createIdApp } from '../../src/app/id-app.ts';
import { createLogger, type LogDestination } from '../../src/app/logger.ts';
import { loadIdConfig } from '../../src/config/id-config.ts';
import { loadProxyConfig } from '../../src/config/proxy-config.ts';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.ts';
import { freePort } from '../helpers/free-port.ts';
import { guideProxyArgv } from '../helpers/guide-proxy.ts';
import { authorizeWithPasskey, enrollUser } from '../helpers/id-passkey-flow.ts';
import type { IdServer } from '../helpers/id-server.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import { type ServeServer, startServe } from '../helpers/serve-server.ts';

function capture(): LogDestination & { lines: string[]; text(): string } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line), text: () => lines.join('') };
}

// shaped like the tokens latchkey issues, and easy to find in a log
const fake = (name: string) => `${name}SECRET${'x'.repeat(43 - name.length - 6)}`;

/** A GET as a browser sends it, without following redirects; the status. */
const get = (url: string) => fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } }).then(async (r) => (await r.arrayBuffer(), r.status));

describe('latchkey id and latchkey proxy log no secret from a URL, at their most verbose level', () => {
  const idLog = capture();
  const proxyLog = capture();
  const secrets = new Map<string, string>();
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-log-url-'));
  let id: IdServer;
  let proxy: ProxyServer;

  before(async () => {
    const idPort = await freePort();
    const origin = `http://localhost:${idPort}`;
    const config = loadIdConfig({ env: {
      APP_URL: origin, PORT: String(idPort), HOST: '127.0.0.1', DB_CONNECTION_STRING: join(dataDir, 'latchkey.db'),
      ENCRYPTION_KEY: 'log-url-secrets-test-key-0123456789', LOG_LEVEL: 'trace',
    } });
    const app = await createIdApp(config, { logDestination: idLog });
    await app.listen();
    id = Object.assign(app, { origin, port: idPort, dataDir });
    const { identity, clients } = id.services;
    const proxyPort = await freePort();
    const site = `http://127.0.0.1:${proxyPort}`;
    await identity.groups.create({ name: 'friends' });
    const { secret } = await clients.create({ id: 'pocket-id-client', name: 'agents', redirectUris: [`${site}/oauth2/callback`], allowedGroups: ['friends'] });
    const argv = guideProxyArgv({ issuerUrl: origin, siteUrl: site, clientSecret: secret!, port: proxyPort, extraFlags: ['--log-level=debug'] });
    proxy = await createProxyServer(loadProxyConfig({ argv, env: {} }), { loggerInstance: createLogger('debug', true, proxyLog) });
    await proxy.listen();
    await proxy.runtime.oidc.discover();

    // The setup link, opened while it is valid and with a token that is not.
    const { token: setupToken } = await identity.setup.issueLink();
    secrets.set('setup token', setupToken).set('made-up setup token', fake('setup'));
    assert.equal(await get(`${origin}/setup?token=${setupToken}`), 200);
    assert.equal(await get(`${origin}/setup?token=${fake('setup')}`), 400);

    // One-time links: a valid one (and the form it leads to), one that is not, one too long to route.
    const { user, browser } = await enrollUser(id, { username: 'alice', email: 'alice@example.com', groups: ['friends'] });
    const { token: linkToken } = await identity.links.issue('signin', user.id, 600);
    secrets.set('one-time link token', linkToken).set('made-up link token', fake('link')).set('over-long link token', `${fake('long')}${'y'.repeat(200)}`);
    assert.equal(await get(`${origin}/lc/${linkToken}`), 200);
    assert.equal(await get(`${origin}/lc/${fake('link')}`), 400);
    assert.equal(await get(`${origin}/lc/${secrets.get('over-long link token')}`), 414);
    assert.equal((await browser.form('/link', { token: fake('link') })).status, 400);

    // ID tokens as id_token_hint, which the provider refuses.
    secrets.set('id_token_hint', fake('hint'));
    assert.equal(await get(`${origin}/api/oidc/end-session?id_token_hint=${fake('hint')}`), 400);
    const authorize = new URL('/authorize', origin);
    authorize.search = new URLSearchParams({ client_id: 'pocket-id-client', response_type: 'code', scope: 'openid', redirect_uri: `${site}/oauth2/callback`, prompt: 'none', id_token_hint: fake('hint') }).toString();
    assert.equal(await get(authorize.href), 303);

    // Codes on the proxy's callback: without a sign-in in this browser, and in one where the
    // provider refuses the code, the issuer differs or the code is given twice; then the real one, twice.
    secrets.set('made-up code', fake('code'));
    assert.equal(await get(`${site}/oauth2/callback?code=${fake('code')}&state=not-started-here`), 403);
    const reachCallback = async () => {
      const start = await browser.jar.fetch(`${site}/oauth2/sign_in?rd=%2Fprivate%2F`);
      const outcome = await authorizeWithPasskey(browser, id, start.headers.get('location')!, `${site}/oauth2/callback`);
      assert.ok(outcome.callback, `stopped with ${outcome.finalStatus}`);
      return outcome.callback;
    };
    for (const tamper of [
      (url: URL) => url.searchParams.set('code', fake('code')),
      (url: URL) => url.searchParams.set('iss', `https://issuer.example/${fake('iss')}`),
      (url: URL) => url.searchParams.append('code', fake('code')),
    ]) {
      const callback = await reachCallback();
      secrets.set(`code of a refused callback ${callback.searchParams.get('state')}`, callback.searchParams.get('code')!);
      tamper(callback);
      assert.equal((await browser.jar.fetch(callback.href)).status, 403, callback.href);
    }
    secrets.set('made-up issuer', fake('iss'));
    const callback = await reachCallback();
    secrets.set('authorization code', callback.searchParams.get('code')!);
    assert.equal((await browser.jar.fetch(callback.href)).status, 302);
    assert.equal((await browser.jar.fetch(callback.href)).status, 403, 'a replay');
    assert.equal(await get(`${site}/oauth2/auth?token=${fake('auth')}`), 401);
    secrets.set('query of an auth check', fake('auth'));
  });
  after(async () => {
    await proxy?.close();
    await id?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes none of them into a log line', () => {
    assert.ok(idLog.lines.length > 5 && proxyLog.lines.length > 5, 'both logged');
    const all = idLog.text() + proxyLog.text();
    for (const [name, value] of secrets) assert.ok(!all.includes(value), `${name} is in the log`);
  });

  it('names refused requests by their route\'s pattern, never by their address', () => {
    const refused = [...idLog.lines, ...proxyLog.lines].map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.msg === 'request refused');
    const routes = new Set(refused.map((l) => l.route));
    for (const route of ['/setup', '/link', '/oauth2/callback']) assert.ok(routes.has(route), `${route} in ${[...routes].join(', ')}`);
    for (const line of refused) assert.equal(line.url, undefined);
  });
});

describe('latchkey serve logs no secret from a URL', () => {
  const log = capture();
  let serve: ServeServer;
  const secrets = [fake('link'), fake('setup'), fake('code'), fake('page')];

  before(async () => {
    serve = await startServe({ env: { LOG_LEVEL: 'trace' }, logDestination: log });
    assert.equal(await get(`${serve.idOrigin}/lc/${fake('link')}`), 400);
    assert.ok(await get(`${serve.idOrigin}/setup?token=${fake('setup')}`) >= 400);
    assert.equal(await get(`${serve.siteOrigin}/oauth2/callback?code=${fake('code')}&state=not-started-here`), 403);
    assert.ok([200, 302, 401].includes(await get(`${serve.siteOrigin}/private/?token=${fake('page')}`)));
    assert.equal(await get(`${serve.siteOrigin}/missing.html?code=${fake('code')}`), 404);
  });
  after(() => serve?.close());

  it('writes none of them into a log line', () => {
    assert.ok(log.lines.length > 0, 'serve logged');
    for (const value of secrets) assert.ok(!log.text().includes(value), `${value} is in the log:\n${log.text()}`);
  });
});

describe('latchkey proxy logs a failed WebSocket upgrade by its path, without the query', () => {
  const log = capture();
  let h: ProxyHarness;
  const token = fake('socket');

  before(async () => {
    h = await startProxyHarness({
      config: { upstreams: [{ kind: 'http', url: new URL(`http://127.0.0.1:${await freePort()}/app/`) }] },
      // a failure inside the check, before any upstream is asked: the proxy answers 500 and logs it
      deps: { loggerInstance: createLogger('debug', true, log), authObserver: () => { throw new Error('the auth check broke'); } },
    });
  });
  after(() => h?.close());

  it('answers 500 and logs "/app/socket?[redacted]", never the application\'s token', async () => {
    // browsers cannot give a WebSocket headers, so applications put its credentials in the query
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${h.proxyUrl}/app/socket?token=${token}`, {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      req.on('upgrade', (answer, socket) => (socket.destroy(), resolve(answer.statusCode ?? 0)));
      req.on('response', (answer) => (answer.resume(), resolve(answer.statusCode ?? 0)));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 500);
    const failed = log.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => l.msg === 'WebSocket upgrade failed');
    assert.equal(failed?.url, '/app/socket?[redacted]', log.text());
    assert.ok(!log.text().includes(token), log.text());
  });
});
