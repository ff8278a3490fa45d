// Logs and metrics of a real latchkey id and latchkey proxy (the guide's flags) during a whole
// passkey sign-in, with LOG_LEVEL=debug and every log line of both captured: sign-ins and admin
// actions show at info, auth decisions at debug, and no credential of any kind reaches the log.
// Both /metrics endpoints are scraped and their content checked.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createIdApp } from '../../src/app/id-app.ts';
import { createLogger, type LogDestination } from '../../src/app/logger.ts';
import { loadIdConfig } from '../../src/config/id-config.ts';
import { loadProxyConfig } from '../../src/config/proxy-config.ts';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.ts';
import type { BrowserJar } from '../helpers/browser-jar.ts';
import { freePort } from '../helpers/free-port.ts';
import { guideProxyArgv } from '../helpers/guide-proxy.ts';
import { idBrowser } from '../helpers/id-browser.ts';
import { authorizeWithPasskey, signOut } from '../helpers/id-passkey-flow.ts';
import type { IdServer } from '../helpers/id-server.ts';

const KEY = 'observability-test-key-0123456789';

interface LogLine { level: number; msg: string; reqId?: string; [key: string]: unknown }

function capture(): LogDestination & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

/** Every cookie value a server ever set in this jar, including ones later deleted or replaced. */
function recordCookies(jar: BrowserJar, into: Set<string>): void {
  const store = jar.store.bind(jar);
  jar.store = (url, response) => {
    for (const line of response.headers.getSetCookie()) {
      const value = line.split(';')[0].split('=').slice(1).join('=').trim();
      if (value) into.add(value);
    }
    store(url, response);
  };
}

const metricValue = (text: string, series: string): number | null => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : null;
};

describe('logs and metrics through a whole passkey sign-in at LOG_LEVEL=debug', () => {
  const idLog = capture();
  const proxyLog = capture();
  const secrets = new Map<string, string>();
  const cookieValues = new Set<string>();
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-observability-'));
  let id: IdServer;
  let proxy: ProxyServer;
  let site: string;
  const authStatuses: number[] = [];

  before(async () => {
    const idPort = await freePort();
    const origin = `http://localhost:${idPort}`;
    const config = loadIdConfig({ env: {
      APP_URL: origin, PORT: String(idPort), HOST: '127.0.0.1', DB_CONNECTION_STRING: join(dataDir, 'latchkey.db'),
      ENCRYPTION_KEY: KEY, LOG_LEVEL: 'debug', METRICS_ADDRESS: '127.0.0.1:0',
    } });
    const app = await createIdApp(config, { logDestination: idLog });
    await app.listen();
    id = Object.assign(app, { origin, port: idPort, dataDir });
    secrets.set('ENCRYPTION_KEY', KEY);

    const { identity, clients } = id.services;
    await identity.groups.create({ name: 'friends' });
    const proxyPort = await freePort();
    site = `http://127.0.0.1:${proxyPort}`;
    const { secret } = await clients.create({ id: 'pocket-id-client', name: 'agents', redirectUris: [`${site}/oauth2/callback`], allowedGroups: ['friends'] });
    secrets.set('client secret', secret!);
    const argv = guideProxyArgv({ issuerUrl: id.origin, siteUrl: site, clientSecret: secret!, port: proxyPort, extraFlags: ['--log-level=debug', '--metrics-address=127.0.0.1:0'] });
    secrets.set('cookie secret', argv.find((a) => a.startsWith('--cookie-secret='))!.split('=').slice(1).join('='));
    const proxyConfig = loadProxyConfig({ argv, env: {} });
    assert.equal(proxyConfig.logLevel, 'debug');
    proxy = await createProxyServer(proxyConfig, { loggerInstance: createLogger('debug', true, proxyLog) });
    await proxy.listen();
    await proxy.runtime.oidc.discover();

    // An admin action through the API with an API key.
    const admin = await identity.users.create({ username: 'admin', email: 'admin@example.com', isAdmin: true });
    const { key } = await identity.apiKeys.create({ name: 'ops', createdBy: admin.id });
    secrets.set('API key', key);
    const created = await fetch(`${id.origin}/api/users`, {
      method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ username: 'alice', email: 'alice@example.com', emailVerified: true }),
    });
    const createdBody = await created.text();
    assert.equal(created.status, 201, createdBody);
    const alice = JSON.parse(createdBody) as { id: string };
    await identity.groups.setUserGroups(alice.id, ['friends']);

    // Alice's invitation: a one-time link, then "Add a passkey", then sign out.
    const browser = idBrowser(id.origin);
    recordCookies(browser.jar, cookieValues);
    const { token } = await identity.links.issue('signin', alice.id, 600);
    secrets.set('one-time link token', token);
    assert.equal((await browser.useOneTimeLink(token)).status, 303);
    await browser.page('/account');
    assert.equal((await browser.registerPasskey('Laptop')).response.status, 200);
    secrets.set('passkey credential id', browser.authenticator.credentialIds()[0]);
    await signOut(browser);

    // A refused one-time link and a refused passkey sign-in: failures to log and count.
    await browser.page('/login');
    assert.equal((await browser.form('/link', { token: 'not-a-real-link-token' })).status >= 400, true);
    const start = await browser.json('/api/webauthn/login/start', {});
    const bad = await browser.json('/api/webauthn/login/finish', { flowId: start.body.flowId, response: { id: 'x', rawId: 'x', type: 'public-key', response: {} } });
    assert.ok(bad.response.status >= 400);

    // Not signed in: nginx's auth_request gets 401. Then the whole sign-in through the proxy.
    authStatuses.push((await fetch(`${site}/oauth2/auth`)).status);
    const signIn = await browser.jar.fetch(`${site}/oauth2/sign_in?rd=%2Fprivate%2F`);
    const outcome = await authorizeWithPasskey(browser, id, signIn.headers.get('location')!, `${site}/oauth2/callback`);
    assert.ok(outcome.callback, `stopped with ${outcome.finalStatus}`);
    secrets.set('authorization code', outcome.callback.searchParams.get('code')!);
    assert.equal((await browser.jar.fetch(outcome.callback.href)).status, 302);
    const auth = await fetch(`${site}/oauth2/auth`, { headers: { cookie: browser.jar.cookieHeader(new URL(site)) } });
    authStatuses.push(auth.status);
    secrets.set('ID token', auth.headers.get('authorization')!.replace(/^Bearer /, ''));
    secrets.set('access token', auth.headers.get('x-auth-request-access-token')!);
    authStatuses.push((await fetch(`${site}/oauth2/auth`, { headers: { cookie: '_oauth2_proxy=tampered' } })).status);
    for (const value of cookieValues) if (value.length >= 16) secrets.set(`cookie value ${value.slice(0, 6)}…`, value);
  });
  after(async () => {
    await proxy?.close();
    await id?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const parsed = (log: { lines: string[] }) => log.lines.map((line) => JSON.parse(line) as LogLine);

  it('ran the whole flow it checks: 401, then 202 with tokens, then 401 for a tampered cookie', () => {
    assert.deepEqual(authStatuses, [401, 202, 401]);
    assert.ok(secrets.get('ID token') && secrets.get('access token'));
    assert.ok(cookieValues.size >= 4, `cookies seen: ${cookieValues.size}`);
  });

  it('writes every log line as JSON', () => {
    assert.ok(idLog.lines.length > 0 && proxyLog.lines.length > 0);
    for (const line of [...idLog.lines, ...proxyLog.lines]) assert.doesNotThrow(() => JSON.parse(line), line);
  });

  it('puts no cookie value, token, client secret, link token, API key or passkey credential in the log', () => {
    const all = [...idLog.lines, ...proxyLog.lines].join('');
    for (const [name, value] of secrets) {
      assert.ok(value && value.length >= 8, `${name} was captured`);
      assert.ok(!all.includes(value), `the log contains the ${name}`);
    }
  });

  it('logs the sign-in and the admin action at info, with the request id on request lines', () => {
    const lines = parsed(idLog);
    const signedIn = lines.find((l) => l.msg === 'signed in' && l.method === 'passkey');
    assert.equal(signedIn?.level, 30);
    assert.match(String(signedIn?.reqId), /^[0-9a-f-]{36}$/);
    const created = lines.find((l) => l.msg === 'audit: user_created');
    assert.equal(created?.level, 30);
    assert.ok(lines.some((l) => l.msg === 'audit: signin' && l.level === 30));
  });

  it('logs refused sign-in attempts at info', () => {
    const refused = parsed(idLog).filter((l) => l.msg === 'request refused' && l.level === 30);
    assert.ok(refused.length >= 2, `refusals logged: ${refused.length}`);
    // by the route's pattern, which names what was refused without a link's token
    for (const line of refused) assert.match(String(line.route), /^\//);
    assert.ok(refused.some((l) => String(l.route).startsWith('/api/webauthn/')), JSON.stringify(refused.map((l) => l.route)));
  });

  it('logs each proxy auth decision at debug with its status and reason', () => {
    const decisions = parsed(proxyLog).filter((l) => l.msg === 'auth decision');
    assert.deepEqual(decisions.map((d) => [d.level, d.status]), [[20, 401], [20, 202], [20, 401]]);
    assert.equal(decisions[0].reason, 'no session');
    assert.ok(decisions[1].sub);
  });

  it('serves id metrics: sign-ins and failures by method, active sessions, latency by route', async () => {
    const response = await fetch(id.metricsUrl!);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.equal(metricValue(text, 'latchkey_id_sign_ins_total{method="passkey"}'), 1);
    assert.equal(metricValue(text, 'latchkey_id_sign_ins_total{method="one_time_link"}'), 1);
    assert.equal(metricValue(text, 'latchkey_id_sign_in_failures_total{method="passkey"}'), 1);
    assert.equal(metricValue(text, 'latchkey_id_sign_in_failures_total{method="one_time_link"}'), 1);
    // The one-time-link session was signed out; the passkey session is still active.
    assert.equal(metricValue(text, 'latchkey_id_active_web_sessions'), 1);
    assert.ok(metricValue(text, 'latchkey_id_http_request_duration_seconds_count{route="/api/webauthn/login/finish"}')! >= 2);
    assert.match(text, /# TYPE latchkey_id_http_request_duration_seconds histogram/);
  });

  it('serves proxy metrics: auth decisions by status and completed sign-ins', async () => {
    const text = await (await fetch(proxy.metricsUrl!)).text();
    assert.equal(metricValue(text, 'latchkey_proxy_auth_decisions_total{status="202"}'), 1);
    assert.equal(metricValue(text, 'latchkey_proxy_auth_decisions_total{status="401"}'), 2);
    assert.equal(metricValue(text, 'latchkey_proxy_auth_decisions_total{status="403"}'), 0);
    assert.equal(metricValue(text, 'latchkey_proxy_sign_ins_total{result="success"}'), 1);
  });

  it('answers 404 on the metrics listener for anything but /metrics', async () => {
    const response = await fetch(new URL('/', proxy.metricsUrl!));
    assert.equal(response.status, 404);
    await response.arrayBuffer();
  });
});

describe('proxy auth decisions without debug logging or metrics', () => {
  it('leave the auth check with no observer to call', async () => {
    const argv = guideProxyArgv({ issuerUrl: 'http://localhost:9', siteUrl: 'http://127.0.0.1:9', clientSecret: 'x'.repeat(20), port: 0, extraFlags: ['--log-level=info'] });
    const proxy = await createProxyServer(loadProxyConfig({ argv, env: {} }), { loggerInstance: createLogger('info', true, capture()) });
    try {
      assert.equal(proxy.runtime.authObserver, null);
      assert.equal(proxy.metricsUrl, null);
    } finally {
      await proxy.close();
    }
  });
});
