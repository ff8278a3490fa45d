// The refresher spends a refresh token once per process; with a shared session store (Redis) it
// hands the refresh to the store, which makes it once for every instance (redis-session-store.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import type { OidcClient } from '../../src/proxy/oidc-client.ts';
import { createRefresher, PROVIDER_RETRY_MS, type RefreshOutcome, type ShareRefresh } from '../../src/proxy/refresher.ts';
import type { Session } from '../../src/proxy/session.ts';
import { proxyConfigFixture } from '../helpers/proxy-config-fixture.ts';

const clock = manualClock();
const now = Math.floor(clock.nowMs() / 1000);
const due: Session = { sub: 'ada', email: 'ada@example.com', emailVerified: true, preferredUsername: 'ada', groups: [], idToken: 'h.p.s', accessToken: 'at',
  refreshToken: 'rt-1', sid: '', createdAt: now - 100, expiresAt: now + 3600, refreshAt: now - 1 };

function countingOidc() {
  const oidc = { calls: 0, fail: null as Error | null, async refresh(refreshToken: string) {
    oidc.calls++;
    if (oidc.fail) throw oidc.fail;
    return { idToken: '', accessToken: 'at-2', refreshToken: `${refreshToken}-next`, claims: { sub: 'ada', email: 'ada@example.com', email_verified: true } };
  } };
  return oidc;
}
function recordingLogger() {
  const lines: string[] = [];
  const record = (level: string) => (_object: object, message?: string) => { lines.push(`${level}: ${message}`); };
  return { lines, error: record('error'), warn: record('warn'), info: record('info') };
}
const refresherWith = (oidc: ReturnType<typeof countingOidc>, share?: ShareRefresh, logger = recordingLogger()) =>
  createRefresher(proxyConfigFixture({ cookie: { refreshSeconds: 60 } }), oidc as unknown as OidcClient,
    { clock, isRefusal: (error) => (error as Error).message === 'invalid_grant', logger, share });

describe('refresher', () => {
  it('spends the token once for concurrent refreshes of one session, without a shared store', async () => {
    const oidc = countingOidc();
    const refresher = refresherWith(oidc);
    const outcomes = await Promise.all([refresher.refresh(due), refresher.refresh(due)]);
    assert.equal(oidc.calls, 1);
    assert.ok(outcomes.every((o) => o.kind === 'refreshed' && o.session.refreshToken === 'rt-1-next'));
  });

  it('hands the refresh to the shared store once per process, and takes what it answers', async () => {
    const oidc = countingOidc();
    let shared = 0;
    const recorded: RefreshOutcome = { kind: 'refreshed', session: { ...due, refreshToken: 'rt-from-another-instance' } };
    const refresher = refresherWith(oidc, async (session, _refresh) => {
      shared++;
      assert.equal(session, due);
      return recorded;
    });
    const outcomes = await Promise.all([refresher.refresh(due), refresher.refresh(due)]);
    assert.equal(shared, 1, 'one Redis exchange for the process');
    assert.equal(oidc.calls, 0, 'the token is not spent here: another instance did');
    assert.deepEqual(outcomes, [recorded, recorded]);
  });

  it('keeps the session when the shared store fails, and asks again at the next check', async () => {
    const oidc = countingOidc();
    let shared = 0;
    const refresher = refresherWith(oidc, async (_session, refresh) => {
      if (++shared === 1) throw new Error('Redis is down');
      return refresh();
    });
    assert.equal((await refresher.refresh(due)).kind, 'unavailable');
    assert.equal(oidc.calls, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await refresher.refresh(due)).kind, 'refreshed');
    assert.equal(oidc.calls, 1);
  });

  it('keeps sessions while the provider does not answer, asks it again only every few seconds, and logs the outage once', async () => {
    const oidc = countingOidc();
    const logger = recordingLogger();
    const refresher = refresherWith(oidc, undefined, logger);
    oidc.fail = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1411'), { code: 'ECONNREFUSED' });
    assert.equal((await refresher.refresh(due)).kind, 'unavailable');
    const other = { ...due, refreshToken: 'rt-2' };
    for (const session of [due, other, due]) assert.equal((await refresher.refresh(session)).kind, 'unavailable');
    assert.equal(oidc.calls, 1, 'no check waits for a provider that just failed to answer');
    assert.deepEqual(logger.lines.map((l) => l.slice(0, l.indexOf(';'))), ['error: The identity provider is unreachable']);
    assert.match(logger.lines[0]!, /sessions due for a refresh are kept as they are/);

    clock.advanceMs(PROVIDER_RETRY_MS);
    oidc.fail = null;
    const outcome = await refresher.refresh(other);
    assert.equal(outcome.kind, 'refreshed');
    assert.equal(oidc.calls, 2);
    assert.match(logger.lines.at(-1)!, /^info: The identity provider reachable again after 10 s; 4 session refreshes failed/);
  });

  it('ends the session at once when the provider refuses the refresh, without waiting to ask again', async () => {
    const oidc = countingOidc();
    const refresher = refresherWith(oidc);
    oidc.fail = new Error('invalid_grant');
    assert.equal((await refresher.refresh(due)).kind, 'refused');
    assert.equal((await refresher.refresh({ ...due, refreshToken: 'rt-2' })).kind, 'refused');
    assert.equal(oidc.calls, 2);
  });

  it('keeps the end of the sign-in, and takes the sooner end of a --cookie-expire lowered since', async () => {
    const week = 168 * 3600;
    const sealedForAWeek = { ...due, refreshToken: 'rt-week', createdAt: now - 1800, expiresAt: now - 1800 + week };
    const refreshed = async (expireSeconds: number) => {
      const refresher = createRefresher(proxyConfigFixture({ cookie: { refreshSeconds: 60, expireSeconds } }), countingOidc() as unknown as OidcClient,
        { clock, isRefusal: () => false, logger: recordingLogger() });
      const outcome = await refresher.refresh(sealedForAWeek);
      assert.ok(outcome.kind === 'refreshed');
      return outcome.session;
    };
    const unchanged = await refreshed(week);
    assert.equal(unchanged.expiresAt, sealedForAWeek.expiresAt, 'a refresh never extends the session');
    assert.equal(unchanged.createdAt, sealedForAWeek.createdAt);
    const lowered = await refreshed(3600);
    assert.equal(lowered.expiresAt, now + 1800, 'an hour after the sign-in, half an hour ago');
    assert.equal(lowered.createdAt, sealedForAWeek.createdAt);
  });
});
