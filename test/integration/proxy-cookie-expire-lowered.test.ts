// After an incident an operator lowers --cookie-expire and restarts the proxy: the sessions already
// issued must end by the new setting, as in oauth2-proxy (its cookie and Redis stores check the
// cookie's signed time against the current --cookie-expire at every load), not live on for the
// week sealed into them at sign-in. Both session stores, through the real /oauth2/auth.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.ts';
import { connectTestRedis, deleteRedisKeys, REDIS_URL, testRedisPrefix } from '../helpers/backends.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import type { CookieJar } from '../helpers/reference-provider.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

for (const store of ['cookie', 'redis'] as const) {
  describe(`sessions signed in under --cookie-expire=168h, after a restart with --cookie-expire=1h (${store} sessions)`, () => {
    let h: ProxyHarness;
    let restarted: ProxyServer;
    let restartedUrl: string;
    let redis: Redis | null = null;
    const keyPrefix = testRedisPrefix();

    before(async () => {
      if (store === 'redis') redis = await connectTestRedis();
      const storeConfig = store === 'redis' ? { sessionStoreType: 'redis' as const, redisConnectionUrl: REDIS_URL } : {};
      h = await startProxyHarness({ config: { ...storeConfig, setXAuthRequest: true }, deps: { redisKeyPrefix: keyPrefix } });
      assert.equal(h.config.cookie.expireSeconds, 168 * 3600, 'signed in under the default');
      // The same --cookie-secret (and Redis), on the same clock; only --cookie-expire is lower.
      restarted = await createProxyServer({ ...h.config, cookie: { ...h.config.cookie, expireSeconds: 3600 } }, { clock: h.clock, redisKeyPrefix: keyPrefix });
      restartedUrl = (await restarted.listen()).url;
    });
    after(async () => {
      await restarted?.close();
      await h?.close();
      if (redis) {
        await deleteRedisKeys(redis, keyPrefix);
        redis.disconnect();
      }
    });

    /** GET /oauth2/auth at the restarted proxy, as nginx would send it. */
    const checkAtRestarted = async (jar: CookieJar) => {
      const response = await jar.fetch(`${restartedUrl}/oauth2/auth`);
      await response.arrayBuffer();
      return response;
    };
    /** Runs `check` `ms` after now on the shared clock, then turns it back (the provider's tokens run on real time). */
    const later = async (ms: number, check: () => Promise<void>) => {
      h.clock.advanceMs(ms);
      try {
        await check();
      } finally {
        h.clock.advanceMs(-ms);
      }
    };

    it('admits a session signed in half an hour ago', async () => {
      const { jar } = await h.signIn('ada');
      await later(30 * MINUTE_MS, async () => {
        const response = await checkAtRestarted(jar);
        assert.equal(response.status, 202);
        assert.equal(response.headers.get('x-auth-request-user'), 'ada');
        assert.deepEqual(response.headers.getSetCookie(), []);
      });
    });

    it('refuses a session signed in two hours ago with 401 and deletes its cookie, which the old setting still admits', async () => {
      const { jar } = await h.signIn('ada');
      const ticketKey = `${keyPrefix}session:${h.config.cookie.name}:${jar.get(h.proxyUrl, h.config.cookie.name)!.split('.')[0]}`;
      if (redis) assert.equal(await redis.exists(ticketKey), 1, 'its session is in Redis');
      await later(2 * HOUR_MS, async () => {
        assert.equal((await h.authCheck(jar)).status, 202, 'under --cookie-expire=168h it is still valid');
        const response = await checkAtRestarted(jar);
        assert.equal(response.status, 401);
        assert.ok(response.headers.getSetCookie().some((line) => /^_oauth2_proxy=; .*Max-Age=0/.test(line)), response.headers.getSetCookie().join('\n'));
        assert.equal(jar.get(h.proxyUrl, h.config.cookie.name), undefined, 'the browser drops it');
        if (redis) assert.equal(await redis.exists(ticketKey), 0, 'and its session is deleted from Redis');
      });
    });
  });
}
