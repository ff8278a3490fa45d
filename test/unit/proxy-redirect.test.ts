import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateRedirect } from '../../src/proxy/redirect.ts';
import { loadRedirectCorpus } from '../helpers/corpus.ts';

const corpus = loadRedirectCorpus();
const site = new URL(corpus.site);
const context = { requestHost: site.host, whitelistDomains: [] as string[] };

describe('validateRedirect', () => {
  it("accepts the provider's end_session_endpoint (any query) when named, and nothing else on that host", () => {
    const context = { requestHost: 'site.example.com', whitelistDomains: [], providerLogout: 'https://id.example.com/api/oidc/end-session' };
    assert.equal(validateRedirect('https://id.example.com/api/oidc/end-session?client_id=c', context), 'https://id.example.com/api/oidc/end-session?client_id=c');
    for (const target of ['https://id.example.com/', 'https://id.example.com/api/oidc/end-session/../../admin', 'http://id.example.com/api/oidc/end-session',
      'https://id.example.com:8443/api/oidc/end-session', 'https://id.example.com.evil.test/api/oidc/end-session', 'https://evil.test/api/oidc/end-session'])
      assert.equal(validateRedirect(target, context), '/', target);
    assert.equal(validateRedirect('https://id.example.com/api/oidc/end-session', { ...context, providerLogout: null }), '/', 'only when named');
  });


  it('has the shared corpus of open redirects to test against', () => {
    assert.ok(corpus.redirect_open.length > 500);
  });

  it('refuses every open redirect of the shared corpus', () => {
    const accepted = corpus.redirect_open.map((c: { value: string }) => c.value)
      .filter((value: string) => validateRedirect(value, context) !== '/');
    assert.deepEqual(accepted, []);
  });

  it('refuses the targets oauth2-proxy refuses for "//", "/./" or "/../" inside the path', () => {
    const accepted = corpus.redirect_policy_dependent.map((c: { value: string }) => c.value)
      .filter((value: string) => validateRedirect(value, context) !== '/');
    assert.deepEqual(accepted, []);
  });

  it('never turns a percent-encoded target into another host by decoding it a second time', () => {
    for (const { value } of corpus.redirect_double_decode_canaries as { value: string }[]) {
      const result = validateRedirect(value, context);
      assert.ok(result === '/' || (result === value && result.startsWith('/') && !result.startsWith('//')), `${value} → ${result}`);
      assert.equal(new URL(result, corpus.site).host, site.host, value);
    }
  });

  it('accepts paths on the site itself', () => {
    for (const value of ['/', '/private/', '/private/notes/2026?x=1#top', '/a.b/c-d_e~f', '/private/%2F%2Fevil.com'])
      assert.equal(validateRedirect(value, context), value);
  });

  it('percent-encodes non-ASCII text in an accepted path so it fits a Location header', () => {
    assert.equal(validateRedirect('/private/café', context), '/private/caf%C3%A9');
  });

  it('accepts absolute URLs to the request host, on its own port only', () => {
    assert.equal(validateRedirect('https://agents.example.com/private/x', context), 'https://agents.example.com/private/x');
    assert.equal(validateRedirect('https://agents.example.com:443/private/', context), 'https://agents.example.com/private/');
    assert.equal(validateRedirect('https://agents.example.com:8443/private/', context), '/');
    assert.equal(validateRedirect('http://localhost:8080/private/', { requestHost: 'localhost:8080', whitelistDomains: [] }), 'http://localhost:8080/private/');
  });

  it('accepts a whitelisted domain, and its subdomains only with a leading dot', () => {
    const withList = { requestHost: site.host, whitelistDomains: ['docs.example.org', '.example.net'] };
    assert.equal(validateRedirect('https://docs.example.org/a', withList), 'https://docs.example.org/a');
    assert.equal(validateRedirect('https://x.docs.example.org/a', withList), '/');
    assert.equal(validateRedirect('https://a.b.example.net/a', withList), 'https://a.b.example.net/a');
    assert.equal(validateRedirect('https://example.net/a', withList), 'https://example.net/a');
    assert.equal(validateRedirect('https://evilexample.net/a', withList), '/');
  });

  it('follows oauth2-proxy port rules for whitelisted domains', () => {
    const withList = { requestHost: site.host, whitelistDomains: ['a.example.org', 'b.example.org:8080', 'c.example.org:*', '*.d.example.org'] };
    assert.equal(validateRedirect('https://a.example.org:8443/', withList), '/');
    assert.equal(validateRedirect('https://b.example.org:8080/', withList), 'https://b.example.org:8080/');
    assert.equal(validateRedirect('https://b.example.org/', withList), '/');
    assert.equal(validateRedirect('https://c.example.org:9999/', withList), 'https://c.example.org:9999/');
    assert.equal(validateRedirect('https://x.d.example.org/', withList), 'https://x.d.example.org/');
  });

  it('refuses userinfo even on the own host', () => {
    assert.equal(validateRedirect('https://user@agents.example.com/private/', context), '/');
  });

  it('refuses empty and missing targets', () => {
    assert.equal(validateRedirect('', context), '/');
    assert.equal(validateRedirect(undefined, context), '/');
  });
});
