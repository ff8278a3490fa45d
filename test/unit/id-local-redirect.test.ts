import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeLocalPath } from '../../src/identity/local-redirect.ts';
import { loadRedirectCorpus } from '../helpers/corpus.ts';

const corpus = loadRedirectCorpus();

describe('where the identity provider sends a browser after sign-in', () => {
  it('refuses every open-redirect case of the shared corpus', () => {
    const accepted = corpus.redirect_open.map((c) => c.value).filter((value) => safeLocalPath(value, 'FALLBACK') !== 'FALLBACK');
    // What is accepted must be a plain path on this origin that no browser reads as another host.
    for (const value of accepted) {
      const resolved = new URL(value, 'https://id.example.com');
      assert.equal(resolved.origin, 'https://id.example.com', value);
      assert.doesNotMatch(value, /^\/[\\/]|[\s\\\u0000-\u001f]/, value);
    }
  });

  it('keeps a double-encoded slash as a path on this origin', () => {
    for (const { value } of corpus.redirect_double_decode_canaries) {
      const result = safeLocalPath(value, 'FALLBACK');
      if (result !== 'FALLBACK') assert.equal(new URL(result, 'https://id.example.com').origin, 'https://id.example.com');
    }
  });

  it('accepts the interaction paths it issues itself', () => {
    assert.equal(safeLocalPath('/interaction/abc-123'), '/interaction/abc-123');
    assert.equal(safeLocalPath('/account?added=1'), '/account?added=1');
  });

  it('falls back for protocol-relative, backslash and absolute targets', () => {
    for (const value of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '', undefined, 42])
      assert.equal(safeLocalPath(value), '/account');
  });
});
