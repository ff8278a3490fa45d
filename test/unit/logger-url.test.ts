import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { urlForLog } from '../../src/core/url-secrets.ts';

describe('urlForLog', () => {
  it('keeps the path and drops any query, which can carry credentials', () => {
    assert.equal(urlForLog('/app/socket?token=abc&room=1'), '/app/socket?[redacted]');
    assert.equal(urlForLog('/oauth2/callback?code=abc&state=def'), '/oauth2/callback?[redacted]');
    assert.equal(urlForLog('/private/notes.txt'), '/private/notes.txt');
    assert.equal(urlForLog('/?'), '/?[redacted]');
  });

  it('replaces the token of a one-time sign-in link', () => {
    assert.equal(urlForLog('/lc/k3Jq9_Zx-1vT8sYb4nLp2mWc7dRf6hGe0aUiOoPlKjH'), '/lc/[redacted]');
    assert.equal(urlForLog('/site/LC/abc/page.html?x=1'), '/site/LC/[redacted]/page.html?[redacted]');
  });

  it('names a request without an address "/"', () => {
    assert.equal(urlForLog(undefined), '/');
  });
});
