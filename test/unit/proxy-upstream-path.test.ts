import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { upstreamPathOf } from '../../src/proxy/upstream-path.ts';

describe('upstreamPathOf', () => {
  it('passes a clean path on as sent, and gives the skip routes its decoded form', () => {
    assert.deepEqual(upstreamPathOf('/public/a.css?v=1'), { kind: 'checked', path: '/public/a.css', matchPath: '/public/a.css' });
    assert.deepEqual(upstreamPathOf('/caf%C3%A9/x'), { kind: 'checked', path: '/caf%C3%A9/x', matchPath: '/café/x' });
  });

  it('cuts the skip routes\' path at an encoded "#", as oauth2-proxy does since CVE-2026-41059', () => {
    assert.deepEqual(upstreamPathOf('/private/x%23.css'), { kind: 'checked', path: '/private/x%23.css', matchPath: '/private/x' });
  });

  it('redirects a path with dot segments or empty segments to its clean form, query kept', () => {
    assert.deepEqual(upstreamPathOf('/public/../private/x?a=1'), { kind: 'redirect', location: '/private/x?a=1' });
    assert.deepEqual(upstreamPathOf('/public/%2E%2E/private/'), { kind: 'redirect', location: '/private/' });
    assert.deepEqual(upstreamPathOf('//evil.example/x'), { kind: 'redirect', location: '/evil.example/x' }, 'never a scheme-relative Location');
  });

  it('refuses what the static edge refuses: a raw "#", backslashes, encoded slashes, bad percent-encoding', () => {
    for (const target of ['/x#y', '/a\\b', '/a%2fb', '/a%5Cb', '/a%zz', '/a%ff']) assert.equal(upstreamPathOf(target).kind, 'invalid', target);
  });
});
