// The refresher spends a refresh token once per process; with a shared session store (Redis) it
// hands the refresh to the store, which makes it once for every instance (redis-session-store.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import type { OidcClient } from '../../src/proxy/oidc-client.ts';
import { createRefresher, type RefreshOutcome, type ShareRefresh } from '../../src/proxy/refresher.ts';
import type { Session } from '../../src/proxy/session.ts';
import { proxyConfigFixture } from '../helpers/proxy-config-fixture.ts';

const clock = manualClock();
const now = Math.floor(clock.nowMs() / 1000);
const due: Session = { sub: 'ada', email: 'ada@example.com', emailVerified: true, preferredUsername: 'ada', groups: [], idToken: 'h.p.s', accessToken: 'at',
  refreshToken: 'rt-1', sid: '', createdAt: now - 100, expiresAt: now + 3600, refreshAt: now - 1 };

function countingOidc() {
  const oidc = { calls: 0, async refresh(refreshToken: string) {
    oidc.calls++;
    return { idToken: '', accessToken: 'at-2', refreshToken: `${refreshToken}-next`, claims: { sub: 'ada', email: 'ada@example.com', email_verified: true } };
  } };
  return oidc;
}
const refresherWith = (oidc: ReturnType<typeof countingOidc>, share?: ShareRefresh) =>
  createRefresher(proxyConfigFixture({ cookie: { refreshSeconds: 60 } }), oidc as unknown as OidcClient, clock, () => false, share);

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
});
