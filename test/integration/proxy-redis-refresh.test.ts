// --session-store-type=redis with --cookie-refresh and two proxy instances in front of latchkey's own
// provider, which rotates refresh tokens and revokes the grant when a spent one comes back (RFC 9700
// §4.14.2). A browser's checks spread over both instances with the cookie it had before the
// refresh: the instances must spend the refresh token once between them, not once each, or the
// provider takes the second use for theft and the user is signed out everywhere.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { nodeHttpFetch } from '../../src/core/node-http-fetch.ts';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.ts';
import { connectTestRedis, deleteRedisKeys, REDIS_URL, testRedisPrefix } from '../helpers/backends.ts';
import { BrowserJar } from '../helpers/browser-jar.ts';
import { freePort } from '../helpers/free-port.ts';
import { authorizeInBrowser } from '../helpers/oidc-flow.ts';
import { type OidcTestServer, startOidcTestServer } from '../helpers/oidc-test-server.ts';
import { proxyConfigFixture } from '../helpers/proxy-config-fixture.ts';

const REFRESH_SECONDS = 1;
const COOKIE = '_oauth2_proxy';

describe('proxy session refresh with two instances on one Redis', () => {
  let op: OidcTestServer;
  let redis: Redis;
  let user: string;
  const keyPrefix = testRedisPrefix();
  const instances: { server: ProxyServer; url: string }[] = [];
  const [a, b] = [0, 1];
  const url = (i: number) => instances[i].url;
  /** Refresh-token grants the instances sent to the provider, counted on the back channel. */
  let refreshes = 0;
  const countingFetch = ((input: string | URL, init: RequestInit = {}) => {
    if (String(init.body ?? '').includes('grant_type=refresh_token')) refreshes++;
    return nodeHttpFetch(input, init);
  }) as typeof fetch;

  before(async () => {
    redis = await connectTestRedis();
    op = await startOidcTestServer();
    user = await op.createUser({ username: 'rotator', groups: ['friends'] });
    const ports = [await freePort(), await freePort()];
    const { clientId, secret } = await op.createClient({ id: 'two-proxies', name: 'Two proxies', allowedGroups: ['friends'],
      redirectUris: ports.map((port) => `http://127.0.0.1:${port}/oauth2/callback`) });
    const config = proxyConfigFixture({ clientId, clientSecret: secret!, oidcIssuerUrl: op.issuer, sessionStoreType: 'redis', redisConnectionUrl: REDIS_URL,
      setXAuthRequest: true, logLevel: 'error', cookie: { refreshSeconds: REFRESH_SECONDS } });
    for (const port of ports) {
      const server = await createProxyServer({ ...config, httpAddress: { host: '127.0.0.1', port } }, { redisKeyPrefix: keyPrefix, fetch: countingFetch });
      instances.push({ server, url: (await server.listen()).url });
    }
    await Promise.all(instances.map((instance) => instance.server.runtime.oidc.discover()));
  });
  after(async () => {
    await Promise.all(instances.map((instance) => instance.server.close()));
    await op?.close();
    await deleteRedisKeys(redis, keyPrefix);
    redis.disconnect();
  });

  /** Signs in at instance A; returns the Cookie header the browser then sends. */
  const signIn = async (): Promise<string> => {
    const jar = new BrowserJar();
    const start = await jar.fetch(`${url(a)}/oauth2/start?rd=/private/`);
    assert.equal(start.status, 302);
    const flow = await authorizeInBrowser(op, jar, start.headers.get('location')!, user, `${url(a)}/oauth2/callback`);
    assert.ok(flow.callback, `the provider sends the browser back (${flow.finalStatus})`);
    assert.equal((await jar.fetch(flow.callback.href)).status, 302, 'the callback signs in');
    return jar.cookieHeader(new URL(url(a)));
  };
  const authAt = async (i: number, cookie: string) => {
    const response = await fetch(`${url(i)}/oauth2/auth`, { headers: { cookie } });
    await response.arrayBuffer();
    return response;
  };
  /** The session cookie a response sets (a refreshed session), as a Cookie header; null when it sets none. */
  const newCookie = (response: Response): string | null => {
    const line = response.headers.getSetCookie().find((l) => l.startsWith(`${COOKIE}=`) && !l.startsWith(`${COOKIE}=;`));
    return line ? line.split(';')[0] : null;
  };
  const clearsCookie = (response: Response) => response.headers.getSetCookie().some((l) => l.startsWith(`${COOKIE}=;`));
  const untilRefreshDue = () => new Promise((resolve) => setTimeout(resolve, REFRESH_SECONDS * 1000 + 150));

  /**
   * The new cookies keep working and their session refreshes again: the provider did not revoke
   * the grant. (With 1 s refreshes on whole seconds, the new session may already have refreshed
   * during the checks before, so the count is taken from before them.)
   */
  const assertStillRefreshes = async (cookies: string[], refreshesBefore: number) => {
    await untilRefreshDue();
    for (const cookie of cookies) {
      const response = await authAt(b, cookie);
      assert.equal(response.status, 202, 'a cookie the instances gave out refreshes again');
      assert.ok(!clearsCookie(response));
    }
    assert.ok(refreshes > refreshesBefore, 'the next refresh reached the provider');
    const [again] = cookies;
    assert.equal((await authAt(a, again)).status, 202);
  };

  it('spends the refresh token once when the old cookie reaches one instance, then the other', async () => {
    const cookie = await signIn();
    const before = refreshes;
    assert.equal((await authAt(b, cookie)).status, 202);
    await untilRefreshDue();

    const atA = await authAt(a, cookie);
    assert.equal(atA.status, 202, 'instance A refreshes');
    const refreshedAtA = newCookie(atA);
    assert.ok(refreshedAtA, 'instance A sends the refreshed session');
    const atB = await authAt(b, cookie);
    assert.equal(atB.status, 202, 'instance B, handed the old cookie after A refreshed, does not sign the user out');
    assert.ok(!clearsCookie(atB));
    const refreshedAtB = newCookie(atB);
    assert.ok(refreshedAtB, 'instance B sends the session A refreshed');
    assert.equal((await authAt(a, cookie)).status, 202, 'instance A again, with the old cookie');
    assert.equal(refreshes - before, 1, 'exactly one refresh reached the provider');

    const afterOldCookie = refreshes;
    for (const fresh of [refreshedAtA, refreshedAtB]) for (const i of [a, b]) assert.equal((await authAt(i, fresh)).status, 202, 'the new cookie works everywhere');
    await assertStillRefreshes([refreshedAtA], afterOldCookie);
  });

  it('spends the refresh token once when checks with the old cookie reach both instances at once', async () => {
    const cookie = await signIn();
    const before = refreshes;
    await untilRefreshDue();

    // A page's assets: several checks per instance, all with the cookie from before the refresh.
    const responses = await Promise.all([a, b, a, b, a, b].map((i) => authAt(i, cookie)));
    assert.deepEqual(responses.map((r) => r.status), Array(6).fill(202), 'no check signs the user out');
    assert.ok(!responses.some(clearsCookie), 'no check deletes the cookie');
    assert.equal(refreshes - before, 1, 'exactly one refresh reached the provider');
    const fresh = responses.map(newCookie);
    assert.ok(fresh.every((c) => c !== null), 'every check sends the refreshed session');

    const afterOldCookie = refreshes;
    for (const c of new Set(fresh as string[])) for (const i of [a, b]) assert.equal((await authAt(i, c)).status, 202, 'every new cookie works everywhere');
    await assertStillRefreshes([fresh[0]!, fresh[1]!], afterOldCookie);
  });

  it('keeps what one instance tells the other about a refresh sealed, and only for a while', async () => {
    const cookie = await signIn();
    await untilRefreshDue();
    const response = await authAt(b, cookie);
    assert.equal(response.status, 202);
    const keys = await redis.keys(`${keyPrefix}refresh:*`);
    assert.ok(keys.length > 0, 'the outcome of the refresh is recorded in Redis');
    for (const key of keys) {
      const value = (await redis.getBuffer(key))!.toString('latin1');
      // the JSON, the email and the tokens (JWTs start "eyJ") in the clear, or base64url-encoded
      // only; "eyJ" is matched in the decoded bytes, where chance makes it 3 bytes in 16 million,
      // not in the base64url text, where it turns up in about one sealed value of a hundred
      const decoded = Buffer.from(value.replace(/^refreshed:/, ''), 'base64url').toString('latin1');
      assert.doesNotMatch(value, /rotator|example\.com/, 'Redis holds no readable claim');
      assert.doesNotMatch(decoded, /rotator|example\.com|eyJ|"sub"/, 'nor one merely encoded');
      const ttlMs = await redis.pttl(key);
      assert.ok(ttlMs > 0 && ttlMs <= 60_000, `forgotten within a minute (pttl ${ttlMs} ms)`);
    }
  });
});
