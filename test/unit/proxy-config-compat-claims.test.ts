// How the proxy reads a provider's claims, as oauth2-proxy does (providers/provider_data.go
// buildSessionFromClaims, pkg/providers/util/claim_extractor.go): email_verified refuses only when
// it is explicitly false and the email claim is the default one, and every claim option takes a
// dotted path into nested claims (the exact key first).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OidcTokens } from '../../src/proxy/oidc-client.ts';
import { sessionFromTokens } from '../../src/proxy/session-from-tokens.ts';
import { proxyConfigFixture } from '../helpers/proxy-config-fixture.ts';

const NOW = 1_800_000_000;
const tokens = (claims: Record<string, unknown>): OidcTokens => ({ idToken: 'id', accessToken: 'at', refreshToken: 'rt', claims: { sub: 'ada', ...claims } });
const config = proxyConfigFixture();
const refused = (run: () => unknown) => assert.throws(run, (error: { code?: string }) => error.code === 'email_not_verified');

describe('email_verified, as oauth2-proxy reads it', () => {
  it('accepts an email without an email_verified claim, as Microsoft Entra ID sends it', () => {
    assert.equal(sessionFromTokens(config, tokens({ email: 'ada@example.com' }), NOW).email, 'ada@example.com');
  });

  it('keeps a session whose refresh answers an email without email_verified', () => {
    const session = sessionFromTokens(config, tokens({ email: 'ada@example.com', email_verified: true }), NOW);
    assert.equal(sessionFromTokens(config, tokens({ email: 'ada@example.org' }), NOW + 60, session).email, 'ada@example.org');
  });

  it('refuses an email_verified that is explicitly false, in any spelling oauth2-proxy reads as false', () => {
    for (const value of [false, 'false', 'no', 0]) refused(() => sessionFromTokens(config, tokens({ email: 'ada@example.com', email_verified: value }), NOW));
    for (const value of [true, 'true', '1', 1]) assert.equal(sessionFromTokens(config, tokens({ email: 'ada@example.com', email_verified: value }), NOW).sub, 'ada');
  });

  it('accepts an unverified email with --insecure-oidc-allow-unverified-email', () => {
    const insecure = proxyConfigFixture({ insecureOidcAllowUnverifiedEmail: true });
    assert.equal(sessionFromTokens(insecure, tokens({ email: 'ada@example.com', email_verified: false }), NOW).email, 'ada@example.com');
  });

  it('does not ask for email_verified when --oidc-email-claim names another claim', () => {
    const byUsername = proxyConfigFixture({ oidcEmailClaim: 'preferred_username' });
    assert.equal(sessionFromTokens(byUsername, tokens({ preferred_username: 'ada' }), NOW).email, 'ada');
    assert.equal(sessionFromTokens(byUsername, tokens({ preferred_username: 'ada', email_verified: false }), NOW).email, 'ada');
  });
});

describe('claim paths', () => {
  it('reads --oidc-groups-claim=realm_access.roles from Keycloak\'s nested claim', () => {
    const keycloak = proxyConfigFixture({ oidcGroupsClaim: 'realm_access.roles' });
    const session = sessionFromTokens(keycloak, tokens({ email: 'ada@example.com', realm_access: { roles: ['admin', 'staff'] } }), NOW);
    assert.deepEqual(session.groups, ['admin', 'staff']);
  });

  it('reads a dotted --oidc-email-claim the same way', () => {
    const nested = proxyConfigFixture({ oidcEmailClaim: 'profile.mail' });
    assert.equal(sessionFromTokens(nested, tokens({ profile: { mail: 'ada@example.com' } }), NOW).email, 'ada@example.com');
  });

  it('takes a claim whose name contains dots before the path it spells (Auth0\'s namespaced claims)', () => {
    const auth0 = proxyConfigFixture({ oidcGroupsClaim: 'https://example.com/roles' });
    const session = sessionFromTokens(auth0, tokens({ email: 'ada@example.com', 'https://example.com/roles': ['staff'], 'https://example': { 'com/roles': ['admin'] } }), NOW);
    assert.deepEqual(session.groups, ['staff']);
  });

  it('finds nothing along a path that leaves the claims\' objects', () => {
    const keycloak = proxyConfigFixture({ oidcGroupsClaim: 'realm_access.roles.names' });
    assert.deepEqual(sessionFromTokens(keycloak, tokens({ email: 'ada@example.com', realm_access: { roles: ['admin'] } }), NOW).groups, []);
  });
});
