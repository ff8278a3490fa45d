import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConfiguredRule, ruleWithQuery } from '../../src/proxy/access-rule.ts';
import { manualClock } from '../../src/core/clock.ts';
import { decide } from '../../src/proxy/decide.ts';
import { identityHeaderWriter } from '../../src/proxy/headers.ts';
import { createRevocations } from '../../src/proxy/revocations.ts';
import type { Session } from '../../src/proxy/session.ts';

const NOW = 1_800_000_000;
const HOUR = 3600;
/** --cookie-expire's default, 168h. */
const WEEK = 168 * HOUR;
const session = (overrides: Partial<Session> = {}): Session => ({
  sub: 'u1', email: 'ada@example.com', emailVerified: true, preferredUsername: 'ada', groups: ['staff'],
  idToken: 'h.p.s', accessToken: 'at', refreshToken: 'rt', sid: 's1', createdAt: NOW - 60, expiresAt: NOW + 3600, refreshAt: 0, ...overrides,
});
const base: ConfiguredRule = { emailDomains: ['*'], authenticatedEmails: null, allowedGroups: [] };
const rule = (query = '', overrides: Partial<ConfiguredRule> = {}) => ruleWithQuery({ ...base, ...overrides }, new URLSearchParams(query));
const noRevocations = createRevocations(manualClock(NOW * 1000), 3600);

describe('decide', () => {
  it('asks to sign in without a session', () => {
    assert.equal(decide(null, rule(), NOW, noRevocations, WEEK).kind, 'signin');
  });

  it('asks to sign in once the session has expired', () => {
    assert.deepEqual(decide(session({ expiresAt: NOW }), rule(), NOW, noRevocations, WEEK), { kind: 'signin', reason: 'expired' });
  });

  it('ends a session older than the --cookie-expire in force now, though it was sealed to last a week', () => {
    // signed in under --cookie-expire=168h, checked after a restart with --cookie-expire=1h
    const sealedForAWeek = (ageSeconds: number) => session({ createdAt: NOW - ageSeconds, expiresAt: NOW - ageSeconds + WEEK });
    assert.deepEqual(decide(sealedForAWeek(2 * HOUR), rule(), NOW, noRevocations, HOUR), { kind: 'signin', reason: 'expired' });
    assert.deepEqual(decide(sealedForAWeek(HOUR), rule(), NOW, noRevocations, HOUR), { kind: 'signin', reason: 'expired' }, 'at the hour itself');
    assert.equal(decide(sealedForAWeek(HOUR - 1), rule(), NOW, noRevocations, HOUR).kind, 'allow');
    assert.equal(decide(sealedForAWeek(30 * 60), rule(), NOW, noRevocations, HOUR).kind, 'allow');
  });

  it('ends a session at its sealed second while --cookie-expire is unchanged, and a longer setting extends nothing', () => {
    const lastSecond = session({ createdAt: NOW - WEEK + 1, expiresAt: NOW + 1 });
    assert.equal(decide(lastSecond, rule(), NOW, noRevocations, WEEK).kind, 'allow');
    assert.deepEqual(decide(lastSecond, rule(), NOW + 1, noRevocations, WEEK), { kind: 'signin', reason: 'expired' });
    assert.deepEqual(decide(lastSecond, rule(), NOW + 1, noRevocations, 2 * WEEK), { kind: 'signin', reason: 'expired' });
  });

  it('allows a live session that passes every rule', () => {
    assert.equal(decide(session(), rule(), NOW, noRevocations, WEEK).kind, 'allow');
  });

  it('denies a user outside allowed_groups, and allows one in any listed group', () => {
    assert.equal(decide(session(), rule('allowed_groups=ops,admins'), NOW, noRevocations, WEEK).kind, 'deny');
    assert.equal(decide(session(), rule('allowed_groups=ops,staff'), NOW, noRevocations, WEEK).kind, 'allow');
  });

  it('reads a query rule as oauth2-proxy does: every value of the parameter, and none (allowed_groups=) as no rule', () => {
    assert.equal(decide(session(), rule('allowed_groups=ops&allowed_groups=staff'), NOW, noRevocations, WEEK).kind, 'allow');
    assert.equal(decide(session(), rule('allowed_groups=ops&allowed_groups=admins'), NOW, noRevocations, WEEK).kind, 'deny');
    assert.equal(decide(session(), rule('allowed_emails=bob@example.com&allowed_emails=ada@example.com'), NOW, noRevocations, WEEK).kind, 'allow');
    for (const empty of ['allowed_groups=', 'allowed_groups=,', 'allowed_emails=', 'allowed_email_domains=&allowed_groups=%20'])
      assert.equal(decide(session(), rule(empty), NOW, noRevocations, WEEK).kind, 'allow', empty);
  });

  it('requires every query rule present to pass', () => {
    assert.equal(decide(session(), rule('allowed_groups=staff&allowed_emails=bob@example.com'), NOW, noRevocations, WEEK).kind, 'deny');
  });

  // oauth2-proxy's getAuthenticatedSession: a session the configured rules refuse is invalid, and ended
  it('finds invalid a session whose email no longer passes the configured domains, unless it is an authenticated email', () => {
    const s = session();
    assert.deepEqual(decide(s, rule('', { emailDomains: ['example.org'] }), NOW, noRevocations, WEEK), { kind: 'invalid', session: s, reason: 'email not allowed' });
    assert.equal(decide(session(), rule('', { emailDomains: ['example.org'], authenticatedEmails: new Set(['ada@example.com']) }), NOW, noRevocations, WEEK).kind, 'allow');
  });

  it('finds invalid a session outside the configured allowed groups', () => {
    assert.equal(decide(session(), rule('', { allowedGroups: ['admins'] }), NOW, noRevocations, WEEK).kind, 'invalid');
  });

  it('finds invalid a session the configured rules refuse, whatever the query rules say; a query rule alone only denies', () => {
    assert.equal(decide(session(), rule('allowed_groups=staff', { allowedGroups: ['admins'] }), NOW, noRevocations, WEEK).kind, 'invalid');
    assert.equal(decide(session(), rule('allowed_groups=admins', { allowedGroups: ['admins'] }), NOW, noRevocations, WEEK).kind, 'invalid');
    assert.equal(decide(session(), rule('allowed_groups=admins', { allowedGroups: ['staff'] }), NOW, noRevocations, WEEK).kind, 'deny');
    assert.equal(decide(session(), rule('allowed_emails=bob@example.com', { emailDomains: ['example.com'] }), NOW, noRevocations, WEEK).kind, 'deny');
  });
});

describe('revocations', () => {
  it('ends the session of a revoked sid, and only sessions created before the logout', () => {
    const clock = manualClock(NOW * 1000);
    const revocations = createRevocations(clock, 3600);
    revocations.revoke({ sid: 's1', sub: 'u1' });
    assert.deepEqual(decide(session(), rule(), NOW, revocations, WEEK), { kind: 'signin', reason: 'revoked' });
    assert.equal(decide(session({ sid: 's2' }), rule(), NOW, revocations, WEEK).kind, 'allow', 'another provider session of the same user');
    assert.equal(decide(session({ createdAt: NOW + 5 }), rule(), NOW + 5, revocations, WEEK).kind, 'allow', 'a sign-in after the logout');
  });

  it('ends every session of a sub when the logout token has no sid', () => {
    const revocations = createRevocations(manualClock(NOW * 1000), 3600);
    revocations.revoke({ sub: 'u1' });
    assert.equal(decide(session({ sid: 'other' }), rule(), NOW, revocations, WEEK).kind, 'signin');
    assert.equal(decide(session({ sub: 'u2' }), rule(), NOW, revocations, WEEK).kind, 'allow');
  });

  it('forgets a revocation once no cookie from before it can still be valid', () => {
    const clock = manualClock(NOW * 1000);
    const revocations = createRevocations(clock, 3600);
    revocations.revoke({ sid: 's1' });
    clock.advanceMs(3601 * 1000);
    revocations.revoke({ sid: 'another' });
    assert.equal(revocations.size, 1);
  });
});

describe('identity headers', () => {
  it('sends X-Auth-Request-Access-Token only with both --set-xauthrequest and --pass-access-token', () => {
    assert.equal(identityHeaderWriter({ setXAuthRequest: true, passAccessToken: false, setAuthorizationHeader: false })(session())['x-auth-request-access-token'], undefined);
    assert.equal(identityHeaderWriter({ setXAuthRequest: false, passAccessToken: true, setAuthorizationHeader: false })(session())['x-auth-request-access-token'], undefined);
    assert.equal(identityHeaderWriter({ setXAuthRequest: true, passAccessToken: true, setAuthorizationHeader: false })(session())['x-auth-request-access-token'], 'at');
  });

  it('always sends every X-Auth-Request header, empty when the claim is missing (Caddy copy_headers)', () => {
    const headers = identityHeaderWriter({ setXAuthRequest: true, passAccessToken: false, setAuthorizationHeader: false })(session({ groups: [], preferredUsername: '' }));
    assert.equal(headers['x-auth-request-groups'], '');
    assert.equal(headers['x-auth-request-preferred-username'], '');
  });

  it('cannot be made to split the response by a claim containing CR or LF', () => {
    const headers = identityHeaderWriter({ setXAuthRequest: true, passAccessToken: false, setAuthorizationHeader: false })(session({ preferredUsername: 'ada\r\nSet-Cookie: x=1' }));
    assert.equal(headers['x-auth-request-preferred-username'], 'adaSet-Cookie: x=1');
  });

  it('sends every non-ASCII claim as its UTF-8 bytes, as oauth2-proxy does, also when each character would fit Latin-1', () => {
    const write = identityHeaderWriter({ setXAuthRequest: true, passAccessToken: false, setAuthorizationHeader: false });
    for (const name of ['José', 'Łukasz', 'Zoë 李']) {
      // node:http writes a header string one byte per character (Latin-1)
      const sent = Buffer.from(write(session({ preferredUsername: name }))['x-auth-request-preferred-username'], 'latin1');
      assert.deepEqual(sent, Buffer.from(name, 'utf8'), name);
    }
  });
});
