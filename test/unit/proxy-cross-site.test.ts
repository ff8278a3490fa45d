import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCrossSite, isOriginOfSite } from '../../src/proxy/cross-site.ts';

const site = { requestHost: 'agents.example.com', whitelistDomains: ['.example.org'] };
const crossSite = (headers: Record<string, string | string[]>) => isCrossSite(headers, (origin) => isOriginOfSite(origin, site));

describe('isCrossSite (sign_out)', () => {
  it('trusts same-origin, same-site and none, and takes every other Sec-Fetch-Site value as cross-site', () => {
    for (const value of ['same-origin', 'same-site', 'none']) assert.equal(crossSite({ 'sec-fetch-site': value }), false, value);
    for (const value of ['cross-site', 'Cross-Site', '', 'same-origin, cross-site']) assert.equal(crossSite({ 'sec-fetch-site': value }), true, value);
  });

  it('believes Sec-Fetch-Site over Origin when a browser sends both', () => {
    assert.equal(crossSite({ 'sec-fetch-site': 'cross-site', origin: 'https://agents.example.com' }), true);
    assert.equal(crossSite({ 'sec-fetch-site': 'same-site', origin: 'https://id.example.com' }), false);
  });

  it('without Sec-Fetch-Site, trusts a request without Origin (curl, scripts) and an Origin of this site', () => {
    assert.equal(crossSite({}), false);
    for (const origin of ['https://agents.example.com', 'http://agents.example.com:8443', 'https://www.example.org'])
      assert.equal(crossSite({ origin }), false, origin);
  });

  it('without Sec-Fetch-Site, takes any other Origin as cross-site', () => {
    for (const origin of ['https://evil.example', 'https://agents.example.com.evil.example', 'https://id.example.com', 'null', 'not a url', 'ftp://agents.example.com', 'chrome-extension://agents.example.com'])
      assert.equal(crossSite({ origin }), true, origin);
  });

  it('trusts no Origin when the request came without a usable Host', () => {
    assert.equal(isCrossSite({ origin: 'http://localhost' }, (origin) => isOriginOfSite(origin, { requestHost: '', whitelistDomains: [] })), true);
  });
});
