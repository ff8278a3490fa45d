import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emailInDomains, refusalReason, ruleWithQuery } from '../../src/proxy/access-rule.ts';
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

// nginx's per-location rule, /oauth2/auth?allowed_email_domains=…, goes through oauth2-proxy's
// IsEndpointAllowed rather than the --email-domain validator: there '.example.com' and
// '*.example.com' also mean example.com itself.
const passesQuery = (email: string, domains: string): boolean =>
  refusalReason({ email, groups: [] }, ruleWithQuery({ emailDomains: ['*'], authenticatedEmails: null, allowedGroups: [] },
    new URLSearchParams({ allowed_email_domains: domains }))) === null;

describe('allowed_email_domains in the /oauth2/auth query', () => {
  it('accepts the domain itself and its subdomains under ".example.com" and "*.example.com", as oauth2-proxy does', () => {
    for (const rule of ['.example.com', '*.example.com']) {
      assert.equal(passesQuery('user@example.com', rule), true, rule);
      assert.equal(passesQuery('User.Name@Example.COM', rule), true, rule);
      assert.equal(passesQuery('toto@foo.example.com', rule), true, rule);
    }
  });

  it('accepts only the domain itself under "example.com"', () => {
    assert.equal(passesQuery('user@example.com', 'example.com'), true);
    assert.equal(passesQuery('toto@foo.example.com', 'example.com'), false);
  });

  it('refuses every corpus bypass, except addresses at example.com or a real subdomain', () => {
    for (const email of values('email_domain_bypass').filter((e) => !atApex(e) && !atSubdomain(e))) {
      for (const rule of ['example.com', '.example.com', '*.example.com']) assert.equal(passesQuery(email, rule), false, `${email} ${rule}`);
    }
  });

  it('does not read "*" as every domain, as oauth2-proxy does not', () => {
    assert.equal(passesQuery('anyone@anywhere.test', '*'), false);
  });
});
