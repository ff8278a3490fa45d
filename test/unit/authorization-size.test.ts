// The bounds on an authorization request's size (oidc/authorization-size.ts), as the query is sent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oversizedAuthorizationQuery, oversizedProviderRequest } from '../../src/oidc/authorization-size.ts';
import { providerRouteOf } from '../../src/oidc/paths.ts';

const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

describe('oversizedAuthorizationQuery', () => {
  it('measures a value in characters after percent-decoding', () => {
    // 1,300 characters sent as 7,806 bytes
    assert.equal(oversizedAuthorizationQuery(`state=${'%C3%A9'.repeat(1300)}`), null);
    assert.deepEqual(oversizedAuthorizationQuery(`state=${'s'.repeat(2048)}%C3%A9`), { kind: 'parameter', parameter: 'state', chars: 2049, maxChars: 2048 });
    assert.equal(oversizedAuthorizationQuery(`state=${'s'.repeat(2047)}%C3%A9`), null);
  });

  it('bounds a parameter it does not list, known to the provider or not, at 2,048 characters', () => {
    assert.deepEqual(oversizedAuthorizationQuery(query({ redirect_uri: 'r'.repeat(2049) })), { kind: 'parameter', parameter: 'redirect_uri', chars: 2049, maxChars: 2048 });
    assert.deepEqual(oversizedAuthorizationQuery(query({ utm_campaign: 'u'.repeat(2049) })), { kind: 'parameter', parameter: 'utm_campaign', chars: 2049, maxChars: 2048 });
    assert.equal(oversizedAuthorizationQuery(query({ redirect_uri: 'r'.repeat(2048) })), null);
  });

  it('checks every value of a repeated parameter', () => {
    assert.deepEqual(oversizedAuthorizationQuery(`nonce=short&nonce=${'n'.repeat(513)}`), { kind: 'parameter', parameter: 'nonce', chars: 513, maxChars: 512 });
  });

  it('lets an ID token hint of a user in many groups through, within the whole query\'s 8 KiB', () => {
    assert.equal(oversizedAuthorizationQuery(query({ id_token_hint: 't'.repeat(5000) })), null);
  });

  it('bounds login_hint, acr_values, ui_locales and claims_locales', () => {
    for (const [parameter, maxChars] of [['login_hint', 512], ['acr_values', 512], ['ui_locales', 256], ['claims_locales', 256]] as const) {
      assert.equal(oversizedAuthorizationQuery(query({ [parameter]: 'x'.repeat(maxChars) })), null, parameter);
      assert.deepEqual(oversizedAuthorizationQuery(query({ [parameter]: 'x'.repeat(maxChars + 1) })), { kind: 'parameter', parameter, chars: maxChars + 1, maxChars });
    }
  });

  it('bounds the whole query at 8,192 bytes as sent', () => {
    const padding = `a=${'p'.repeat(2000)}&b=${'p'.repeat(2000)}&c=${'p'.repeat(2000)}&d=${'p'.repeat(2000)}`;
    assert.equal(oversizedAuthorizationQuery(padding.slice(0, 8192)), null);
    assert.deepEqual(oversizedAuthorizationQuery(`${padding}&e=${'p'.repeat(200)}`), { kind: 'whole', part: 'query', bytes: 8214, maxBytes: 8192 });
  });
});

describe('which requests are bounded', () => {
  it('finds the endpoint as oidc-provider\'s router does: any case, one trailing slash, not a sub-path', () => {
    assert.equal(providerRouteOf('/authorize?client_id=x'), 'authorization');
    assert.equal(providerRouteOf('/authorize/'), 'authorization');
    assert.equal(providerRouteOf('/Authorize'), 'authorization');
    assert.equal(providerRouteOf('/authorize/some-uid'), null);
    assert.equal(providerRouteOf('/api/oidc/par'), 'pushed_authorization_request');
    assert.equal(providerRouteOf('/api/oidc/token'), 'token');
    assert.equal(providerRouteOf('/'), null);
  });

  it('bounds GET and HEAD authorization requests by their query and pushed ones by their body, nothing else', () => {
    const long = `/authorize?state=${'s'.repeat(2049)}`;
    for (const method of ['GET', 'HEAD']) assert.equal(oversizedProviderRequest({ method, url: long, headers: {} })?.endpoint, 'authorization');
    assert.equal(oversizedProviderRequest({ method: 'GET', url: `/authorize/uid?state=${'s'.repeat(2049)}`, headers: {} }), null);
    assert.equal(oversizedProviderRequest({ method: 'POST', url: '/api/oidc/par', headers: { 'content-length': '8192' } }), null);
    assert.deepEqual(oversizedProviderRequest({ method: 'POST', url: '/api/oidc/par', headers: { 'content-length': '8193' } }), { endpoint: 'pushed_authorization_request', oversized: { kind: 'whole', part: 'body', bytes: 8193, maxBytes: 8192 } });
    assert.deepEqual(oversizedProviderRequest({ method: 'POST', url: '/api/oidc/par', headers: { 'transfer-encoding': 'chunked' } }), { endpoint: 'pushed_authorization_request', oversized: 'length_required' });
    assert.equal(oversizedProviderRequest({ method: 'POST', url: '/api/oidc/token', headers: { 'content-length': '60000' } }), null);
  });
});
