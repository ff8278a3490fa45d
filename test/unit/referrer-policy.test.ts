// Which of latchkey id's pages may name themselves in the Referer (src/web/security-headers.ts):
// those whose address holds a credential send only the origin.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { urlHoldsSecret } from '../../src/core/url-secrets.ts';
import { referrerPolicyFor } from '../../src/web/security-headers.ts';

describe('urlHoldsSecret', () => {
  it('finds a one-time link, and a token, code or ID token in the query, wherever it stands', () => {
    for (const url of ['/lc/abc', '/LC/abc', '/lc/', '/setup?token=abc', '/setup?x=1&token=abc', '/api/oidc/end-session?client_id=a&id_token_hint=eyJ',
      '/oauth2/callback?code=abc&state=s', '/anything?Token=abc', '/lc/abc?x=1'])
      assert.equal(urlHoldsSecret(url), true, url);
  });

  it('leaves every other address alone, a parameter that merely ends in a secret\'s name included', () => {
    for (const url of ['/', '/login', '/account?welcome=1', '/admin/users?search=token', '/setup', '/lcx/abc', '/x?csrf_token=abc', '/x?mycode=1', '/assets/style.css', '/x?q=a#lc/'])
      assert.equal(urlHoldsSecret(url), false, url);
  });
});

describe('referrerPolicyFor', () => {
  it('is strict-origin for an address with a secret (the Origin header of a form post stays), same-origin for the rest', () => {
    assert.equal(referrerPolicyFor('/lc/abc'), 'strict-origin');
    assert.equal(referrerPolicyFor('/setup?token=abc'), 'strict-origin');
    assert.equal(referrerPolicyFor('/login'), 'same-origin');
  });
});
