// The per-address count of authorization requests (oidc/authorization-rate-limit.ts), over the
// memory store; oidc-authorize-limits.test.ts drives it over HTTP with the database store.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { createAuthorizeRateLimit } from '../../src/oidc/authorization-rate-limit.ts';
import { createMemoryStore, type EphemeralStore } from '../../src/storage/ephemeral-store.ts';
import { createPasskeySignInRateLimit, PASSKEY_SIGN_IN_STARTS_PER_MINUTE } from '../../src/webauthn/login-rate-limit.ts';

function setUp(options: { trustProxy?: boolean; store?: EphemeralStore; requestsPerMinute?: number } = {}) {
  const warnings: { details: Record<string, unknown>; message: string }[] = [];
  const limit = createAuthorizeRateLimit({
    store: options.store ?? createMemoryStore(manualClock()), requestsPerMinute: options.requestsPerMinute ?? 3,
    trustProxy: options.trustProxy ?? false, log: { warn: (details, message) => warnings.push({ details: details as Record<string, unknown>, message }) },
  });
  const statuses = async (ip: string, peer: string, count: number) => {
    const out = [];
    for (let i = 0; i < count; i++) out.push((await limit.count(ip, peer)).refused ? 429 : 'ok');
    return out;
  };
  return { limit, warnings, statuses };
}

describe('createAuthorizeRateLimit', () => {
  it('refuses past the limit for the rest of the window, and logs the address passing it once', async () => {
    const { limit, warnings, statuses } = setUp();
    assert.deepEqual(await statuses('203.0.113.1', '203.0.113.1', 5), ['ok', 'ok', 'ok', 429, 429]);
    assert.deepEqual(await limit.count('203.0.113.1', '203.0.113.1'), { refused: true, retryAfterSeconds: 60 });
    assert.deepEqual(warnings.map((w) => w.details.event), ['authorize_rate_limited']);
    assert.equal(warnings[0].details.address, '203.0.113.1');
  });

  it('names TRUST_PROXY once when a private peer passes the limit and TRUST_PROXY is unset; not for a public peer, nor with TRUST_PROXY', async () => {
    const unset = setUp();
    await unset.statuses('203.0.113.1', '203.0.113.1', 5);
    await unset.statuses('10.0.0.5', '::ffff:10.0.0.5', 5);
    await unset.statuses('fd00::1', 'fd00::1', 5);
    const named = unset.warnings.filter((w) => /TRUST_PROXY is not set/.test(w.message));
    assert.equal(named.length, 1);
    assert.match(named[0].message, /::ffff:10\.0\.0\.5/);
    const set = setUp({ trustProxy: true });
    await set.statuses('203.0.113.1', '127.0.0.1', 5);
    assert.equal(set.warnings.filter((w) => /TRUST_PROXY/.test(w.message)).length, 0);
  });

  it('lets requests through, saying so once, while the store does not answer', async () => {
    const memory = createMemoryStore(manualClock());
    let down = true;
    const store: EphemeralStore = { ...memory, increment: (key, ttl) => (down ? Promise.reject(new Error('Redis is away')) : memory.increment(key, ttl)) };
    const { warnings, statuses } = setUp({ store });
    assert.deepEqual(await statuses('203.0.113.1', '203.0.113.1', 5), ['ok', 'ok', 'ok', 'ok', 'ok']);
    assert.equal(warnings.length, 1);
    down = false;
    assert.deepEqual(await statuses('203.0.113.1', '203.0.113.1', 4), ['ok', 'ok', 'ok', 429]);
  });

  it('counts nothing with a limit of 0', async () => {
    const store = createMemoryStore(manualClock());
    const { statuses } = setUp({ store, requestsPerMinute: 0 });
    assert.deepEqual(await statuses('203.0.113.1', '203.0.113.1', 5), ['ok', 'ok', 'ok', 'ok', 'ok']);
    assert.equal(await store.get('authorize:ip:203.0.113.1'), null);
  });

  it('counts the /64s of one IPv6 /48 together too, up to four times the limit, and logs the /48 passing it once', async () => {
    const store = createMemoryStore(manualClock());
    const { warnings, statuses } = setUp({ store });
    // a host with a /48 routed to it sends from a fresh /64 each time: each /64 stays under 3
    const fresh = Array.from({ length: 14 }, (_, i) => `2001:db8:7:${(i + 1).toString(16)}::1`);
    const answers = [];
    for (const ip of fresh) answers.push(...await statuses(ip, ip, 1));
    assert.deepEqual(answers, [...Array(12).fill('ok'), 429, 429]);
    assert.deepEqual(warnings.map((w) => [w.details.event, w.details.block, w.details.limit]), [['authorize_rate_limited_block', '2001:db8:7::/48', 12]]);
    // another /48, and IPv4 addresses, are not held back by it
    assert.deepEqual(await statuses('2001:db8:8:1::1', '2001:db8:8:1::1', 3), ['ok', 'ok', 'ok']);
    assert.deepEqual(await statuses('203.0.113.1', '203.0.113.1', 3), ['ok', 'ok', 'ok']);
    assert.equal(await store.get('authorize:net:2001:db8:8::/48'), '3');
  });

  it('does not count against the /48 the requests its /64 was refused', async () => {
    const { statuses } = setUp();
    assert.deepEqual(await statuses('2001:db8:9:1::1', '2001:db8:9:1::1', 20), [...Array(3).fill('ok'), ...Array(17).fill(429)]);
    for (let i = 2; i <= 4; i++) assert.deepEqual(await statuses(`2001:db8:9:${i}::1`, '::1', 3), ['ok', 'ok', 'ok'], `the /64 number ${i}`);
    assert.deepEqual(await statuses('2001:db8:9:5::1', '::1', 1), [429], 'the 13th that its /64s were allowed');
  });
});

// The same limit, for passkey sign-in starts (webauthn/login-rate-limit.ts): a start keeps its
// challenge in the store that counts, so it cannot be let through uncounted while that store is away.
describe('createPasskeySignInRateLimit', () => {
  const quiet = { warn: () => {} };

  it('fails with the store\'s own error while the store does not answer, and logs nothing of its own', async () => {
    const warnings: string[] = [];
    const failure = new Error('Redis is away');
    const store: EphemeralStore = { ...createMemoryStore(manualClock()), increment: () => Promise.reject(failure) };
    const limit = createPasskeySignInRateLimit({ store, trustProxy: false, enabled: true, log: { warn: (_details, message) => warnings.push(message) } });
    await assert.rejects(limit.count('203.0.113.1', '203.0.113.1'), failure);
    assert.deepEqual(warnings, []);
  });

  it(`allows ${PASSKEY_SIGN_IN_STARTS_PER_MINUTE} a minute under keys of its own, and counts nothing when off`, async () => {
    const store = createMemoryStore(manualClock());
    const on = createPasskeySignInRateLimit({ store, trustProxy: false, enabled: true, log: quiet });
    for (let i = 0; i < PASSKEY_SIGN_IN_STARTS_PER_MINUTE; i++) assert.equal((await on.count('203.0.113.1', '203.0.113.1')).refused, false);
    assert.deepEqual(await on.count('203.0.113.1', '203.0.113.1'), { refused: true, retryAfterSeconds: 60 });
    assert.equal(await store.get('authorize:ip:203.0.113.1'), null, 'not the authorization requests\' count');
    const off = createPasskeySignInRateLimit({ store, trustProxy: false, enabled: false, log: quiet });
    assert.equal((await off.count('203.0.113.1', '203.0.113.1')).refused, false);
  });
});
