import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createCookieCodec, MAX_COOKIE_LENGTH } from '../../src/proxy/cookie-codec.ts';
import { parseCookieHeader } from '../../src/proxy/cookie-header.ts';
import type { Session } from '../../src/proxy/session.ts';

const attrs = { domain: null, path: '/', secure: true, httpOnly: true, sameSite: 'lax' as const };
const session = (groups: string[] = ['staff']): Session => ({
  sub: 'user-1', email: 'ada@example.com', emailVerified: true, preferredUsername: 'ada', groups,
  idToken: 'header.payload.signature', accessToken: 'at', refreshToken: 'rt', sid: 'sid-1',
  createdAt: 1_700_000_000, expiresAt: 1_700_600_000, refreshAt: 0,
});
// What the browser sends back: the name=value part of every Set-Cookie line that does not delete.
const sentBack = (lines: string[]) => parseCookieHeader(lines.filter((l) => !l.includes('Max-Age=0')).map((l) => l.split(';')[0]).join('; '));

describe('session cookie codec', () => {
  const codec = createCookieCodec('_oauth2_proxy', randomBytes(32));

  it('reads back the session it wrote', () => {
    const lines = codec.write(session(), attrs, 3600, Date.now(), new Map());
    assert.equal(lines.length, 1);
    assert.deepEqual(codec.read(sentBack(lines)), session());
  });

  it('writes Secure, HttpOnly, SameSite, Path and Max-Age', () => {
    const [line] = codec.write(session(), attrs, 3600, Date.now(), new Map());
    for (const part of ['Path=/', 'Max-Age=3600', 'HttpOnly', 'Secure', 'SameSite=Lax']) assert.ok(line.includes(part), part);
  });

  it('splits a session too large for one cookie into _0, _1 … and joins them on read', () => {
    const big = session(Array.from({ length: 400 }, (_, i) => `group-with-a-long-name-${i}`));
    const lines = codec.write(big, attrs, 3600, Date.now(), new Map());
    assert.ok(lines.length >= 3);
    assert.ok(lines.every((l) => l.length <= MAX_COOKIE_LENGTH));
    assert.deepEqual(lines.map((l) => l.split('=')[0]), lines.map((_, i) => `_oauth2_proxy_${i}`));
    assert.deepEqual(codec.read(sentBack(lines)), big);
  });

  it('deletes parts left over from a larger earlier session', () => {
    const big = session(Array.from({ length: 400 }, (_, i) => `group-with-a-long-name-${i}`));
    const previous = sentBack(codec.write(big, attrs, 3600, Date.now(), new Map()));
    const lines = codec.write(session(), attrs, 3600, Date.now(), previous);
    const deleted = lines.filter((l) => l.includes('Max-Age=0')).map((l) => l.split('=')[0]);
    assert.deepEqual(deleted.sort(), [...previous.keys()].sort());
  });

  it('refuses a value with one byte changed', () => {
    const [line] = codec.write(session(), attrs, 3600, Date.now(), new Map());
    const value = line.split(';')[0].split('=')[1];
    const flipped = value.slice(0, 20) + (value[20] === 'A' ? 'B' : 'A') + value.slice(21);
    assert.equal(codec.read(new Map([['_oauth2_proxy', flipped]])), null);
  });

  it('refuses a truncated split cookie', () => {
    const big = session(Array.from({ length: 400 }, (_, i) => `group-with-a-long-name-${i}`));
    const sent = sentBack(codec.write(big, attrs, 3600, Date.now(), new Map()));
    sent.delete(`_oauth2_proxy_${sent.size - 1}`);
    assert.equal(codec.read(sent), null);
  });

  it('refuses a cookie sealed with another secret', () => {
    const other = createCookieCodec('_oauth2_proxy', randomBytes(32));
    assert.equal(codec.read(sentBack(other.write(session(), attrs, 3600, Date.now(), new Map()))), null);
  });

  it('refuses a value sealed for another cookie name', () => {
    const sameSecret = randomBytes(32);
    const a = createCookieCodec('_a', sameSecret);
    const b = createCookieCodec('_b', sameSecret);
    const value = a.write(session(), attrs, 60, Date.now(), new Map())[0].split(';')[0].split('=')[1];
    assert.equal(b.read(new Map([['_b', value]])), null);
  });

  it('clears the cookie and every part the browser sent', () => {
    const lines = codec.clear(attrs, new Map([['_oauth2_proxy_0', 'x'], ['_oauth2_proxy_1', 'y'], ['unrelated', 'z']]));
    assert.deepEqual(lines.map((l) => l.split('=')[0]).sort(), ['_oauth2_proxy', '_oauth2_proxy_0', '_oauth2_proxy_1']);
    assert.ok(lines.every((l) => l.includes('Max-Age=0')));
  });

  it('remembers a value that opened (same, frozen session) but never one that did not', () => {
    const sent = sentBack(codec.write(session(), attrs, 3600, Date.now(), new Map()));
    const first = codec.read(sent)!;
    assert.equal(codec.read(sent), first);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.groups));
    assert.throws(() => { (first as { email: string }).email = 'eve@example.com'; });
    const value = sent.get('_oauth2_proxy')!;
    const forged = new Map([['_oauth2_proxy', `${value.slice(0, -4)}AAAA`]]);
    assert.equal(codec.read(forged), null);
    assert.equal(codec.read(forged), null);
    // another codec (another secret) does not share what this one opened
    assert.equal(createCookieCodec('_oauth2_proxy', randomBytes(32)).read(sent), null);
  });
});

