// Anyone may start a passkey sign-in, and each start keeps a challenge in the ephemeral store for
// five minutes. Found in review: nothing bounded how many one client could start. Starts are now
// counted per address as authorization requests are (webauthn/login-rate-limit.ts), before
// anything is kept.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { PASSKEY_SIGN_IN_STARTS_PER_MINUTE } from '../../src/webauthn/login-rate-limit.ts';
import { idBrowser } from '../helpers/id-browser.ts';
import { enrollUser } from '../helpers/id-passkey-flow.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const LIMIT = PASSKEY_SIGN_IN_STARTS_PER_MINUTE;

/** The challenges kept for passkey ceremonies (webauthn/ceremony-flow.ts). */
async function keptFlows(id: IdServer): Promise<number> {
  const row = await id.services.database.db.selectFrom('ephemeral').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('key', 'like', 'webauthn:flow:%').executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A sign-in page's "Sign in with a passkey" start, sent with X-Forwarded-For `ip` when given. */
async function startFrom(id: IdServer, ip?: string): Promise<Response> {
  const browser = idBrowser(id.origin);
  await browser.page('/login');
  return browser.jar.fetch(new URL('/api/webauthn/login/start', id.origin), {
    method: 'POST', body: '{}',
    headers: {
      'content-type': 'application/json', accept: 'application/json', origin: id.origin, 'sec-fetch-site': 'same-origin', 'x-csrf-token': browser.csrf,
      ...(ip ? { 'x-forwarded-for': ip } : {}),
    },
  });
}

async function statusesFrom(id: IdServer, count: number, ip?: string | ((i: number) => string)): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await startFrom(id, typeof ip === 'function' ? ip(i) : ip);
    await response.body?.cancel();
    statuses.push(response.status);
  }
  return statuses;
}

const logOf = () => {
  const lines: Record<string, unknown>[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } };
};

describe('latchkey id limits passkey sign-in starts per address', () => {
  const clock = manualClock(Date.now());
  const log = logOf();
  let id: IdServer;
  // TRUST_PROXY: the tests choose the client's address with X-Forwarded-For.
  before(async () => { id = await startIdServer({ TRUST_PROXY: 'true' }, { clock, logDestination: log.destination }); });
  after(() => id?.close());

  it(`refuses start ${LIMIT + 1} in a minute from one address with a JSON 429 and Retry-After, and keeps no challenge for it`, async () => {
    assert.deepEqual(new Set(await statusesFrom(id, LIMIT, '198.51.100.1')), new Set([200]));
    const before = await keptFlows(id);
    const refused = await startFrom(id, '198.51.100.1');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '60');
    assert.equal(refused.headers.get('cache-control'), 'no-store');
    assert.equal(refused.headers.get('set-cookie'), null, 'no ceremony cookie either');
    const body = await refused.json() as { error: string; message: string; requestId: string };
    assert.equal(body.error, 'too_many_requests');
    assert.match(body.message, /Wait a minute/);
    assert.equal(await keptFlows(id), before);
  });

  it('counts another address, and another IPv6 /64, apart', async () => {
    assert.deepEqual(await statusesFrom(id, 1, '198.51.100.2'), [200]);
    assert.deepEqual(new Set(await statusesFrom(id, LIMIT, (i) => `2001:db8:5:6::${(i + 1).toString(16)}`)), new Set([200]));
    assert.deepEqual(await statusesFrom(id, 1, '2001:db8:5:6:abcd::1'), [429], 'the addresses of one /64 together');
    assert.deepEqual(await statusesFrom(id, 1, '2001:db8:5:7::1'), [200]);
  });

  it('logs the address passing the limit once a window, not every refusal', async () => {
    await statusesFrom(id, LIMIT + 3, '198.51.100.3');
    const passed = log.lines.filter((line) => line.event === 'passkey_sign_in_rate_limited' && line.address === '198.51.100.3');
    assert.equal(passed.length, 1);
    assert.equal(passed[0].level, 40);
  });

  it('lets the address start again once its minute has passed', async () => {
    await statusesFrom(id, LIMIT + 1, '198.51.100.4');
    clock.advanceMs(60_000);
    assert.deepEqual(await statusesFrom(id, 1, '198.51.100.4'), [200]);
  });

  it('does not get in the way of a sign-in', async () => {
    const { browser } = await enrollUser(id, { username: 'alice' });
    await browser.page('/login');
    const signedIn = await browser.signInWithPasskey();
    assert.equal(signedIn.response.status, 200, JSON.stringify(signedIn.body));
    assert.equal((await browser.page('/account')).response.status, 200);
  });
});

describe('the passkey sign-in start limit and TRUST_PROXY', () => {
  it('counts the connection\'s address, not an X-Forwarded-For that TRUST_PROXY does not trust', async () => {
    const id = await startIdServer();
    try {
      const statuses = await statusesFrom(id, LIMIT + 1, (i) => `203.0.113.${i + 1}`);
      assert.deepEqual(statuses, [...Array<number>(LIMIT).fill(200), 429]);
    } finally {
      await id.close();
    }
  });

  it('is off with the other per-address limits when AUTHORIZE_REQUESTS_PER_MINUTE is 0', async () => {
    const id = await startIdServer({ AUTHORIZE_REQUESTS_PER_MINUTE: '0' });
    try {
      assert.deepEqual(new Set(await statusesFrom(id, LIMIT + 1)), new Set([200]));
    } finally {
      await id.close();
    }
  });
});
