// latchkey's Redis commands need Redis 7.0 (src/core/redis-version.ts): an older server is named
// in an error at each connection, instead of every sign-in failing with a syntax error unexplained.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { redisVersionOf, redisVersionTooOld, warnWhenRedisTooOld } from '../../src/core/redis-version.ts';

const infoOf = (version: string) => `# Server\r\nredis_version:${version}\r\nredis_git_sha1:00000000\r\nredis_mode:standalone\r\n`;

function fakeRedis(info: () => Promise<string>) {
  const client = Object.assign(new EventEmitter(), { info });
  const errors: { details: object; message: string }[] = [];
  warnWhenRedisTooOld(client, { error: (details, message) => void errors.push({ details, message }) }, 'REDIS_URL');
  return { client, errors, settled: () => new Promise((resolve) => setImmediate(resolve)) };
}

describe('the Redis version latchkey needs', () => {
  it('reads redis_version from INFO and calls 6.x too old, 7.x and later fine, and an unreadable one fine', () => {
    assert.equal(redisVersionOf(infoOf('6.0.16')), '6.0.16');
    assert.equal(redisVersionTooOld('6.2.14'), true);
    assert.equal(redisVersionTooOld('5.0.7'), true);
    assert.equal(redisVersionTooOld('7.0.15'), false);
    assert.equal(redisVersionTooOld('8.0.2'), false);
    assert.equal(redisVersionTooOld(undefined), false);
    assert.equal(redisVersionTooOld('unknown'), false);
  });

  it('logs an error naming the setting and the version at each connection to Redis 6', async () => {
    const { client, errors, settled } = fakeRedis(async () => infoOf('6.0.16'));
    client.emit('ready');
    await settled();
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /^REDIS_URL: the server runs Redis 6\.0\.16; latchkey needs Redis 7\.0 or later/);
    assert.deepEqual(errors[0].details, { event: 'redis_too_old', redisVersion: '6.0.16' });
    client.emit('ready');
    await settled();
    assert.equal(errors.length, 2);
  });

  it('says nothing for Redis 7, nor when INFO fails', async () => {
    for (const info of [async () => infoOf('7.0.15'), async () => { throw new Error('NOPERM'); }]) {
      const { client, errors, settled } = fakeRedis(info);
      client.emit('ready');
      await settled();
      assert.deepEqual(errors, []);
    }
  });
});
