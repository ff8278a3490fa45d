import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emailInDomains } from '../../src/proxy/access-rule.ts';
import { loadRedirectCorpus } from '../helpers/corpus.ts';

// The corpus lists, for a site at example.com, addresses that must not pass the domain rule and
// addresses that must. Its entries come from oauth2-proxy's tables, where the rule was written as
// 'example.com' (that domain), '.example.com' or '*.example.com' (its subdomains). An address at
// example.com itself legitimately passes the first; one at a real subdomain the other two; every
// other bypass must fail all three.
const corpus = loadRedirectCorpus();
const values = (key: string): string[] => (corpus[key] as { value: string }[]).map((c) => c.value);
const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();
const singleAt = (email: string) => email.indexOf('@') === email.lastIndexOf('@');
const atApex = (email: string) => singleAt(email) && domainOf(email) === 'example.com';
const atSubdomain = (email: string) => singleAt(email) && domainOf(email).endsWith('.example.com');

describe('email domain rules', () => {
  it('has the shared corpus of bypass attempts to test against', () => {
    assert.ok(values('email_domain_bypass').length >= 10 && values('email_domain_ok').length >= 5);
  });

  it('refuses every corpus bypass under the rule "example.com", except addresses at example.com itself', () => {
    for (const email of values('email_domain_bypass').filter((e) => !atApex(e)))
      assert.equal(emailInDomains(email, ['example.com']), false, email);
  });

  it('refuses every corpus bypass under ".example.com" and "*.example.com", except addresses at a real subdomain', () => {
    for (const email of values('email_domain_bypass').filter((e) => !atSubdomain(e))) {
      assert.equal(emailInDomains(email, ['.example.com']), false, email);
      assert.equal(emailInDomains(email, ['*.example.com']), false, email);
    }
  });

  it('accepts every corpus address at example.com under "example.com", whatever its letter case', () => {
    const apex = values('email_domain_ok').filter(atApex);
    assert.ok(apex.length >= 2);
    for (const email of apex) assert.equal(emailInDomains(email, ['example.com']), true, email);
  });

  it('accepts every corpus address at a subdomain under ".example.com" and "*.example.com"', () => {
    const sub = values('email_domain_ok').filter(atSubdomain);
    assert.ok(sub.length >= 3);
    for (const email of sub) {
      assert.equal(emailInDomains(email, ['.example.com']), true, email);
      assert.equal(emailInDomains(email, ['*.example.com']), true, email);
    }
  });

  it('does not treat a subdomain rule as allowing the apex, nor the apex rule as allowing subdomains', () => {
    assert.equal(emailInDomains('toto@example.com', ['.example.com']), false);
    assert.equal(emailInDomains('toto@foo.example.com', ['example.com']), false);
  });

  it('accepts anything under "*"', () => {
    assert.equal(emailInDomains('anyone@anywhere.test', ['*']), true);
  });
});
