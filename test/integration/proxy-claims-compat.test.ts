// The proxy against a real provider (panva's oidc-provider), reading claims as oauth2-proxy does:
// an email without email_verified (Microsoft Entra ID sends none), nested claims named by a dotted
// path (Keycloak's realm_access.roles), an account with no email at all; and the Helm chart's
// placeholder upstream, file:///dev/null, which serves nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { loadProxyConfig } from '../../src/config/proxy-config.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';

const REFRESH_SECONDS = 60;
const sessionSet = (response: Response) => response.headers.getSetCookie().some((l) => /^_oauth2_proxy(_\d+)?=[^;]/.test(l));

describe('a provider that sends an email without email_verified (Microsoft Entra ID)', () => {
  let h: ProxyHarness;
  let startMs = 0;
  before(async () => {
    h = await startProxyHarness({
      config: { cookie: { refreshSeconds: REFRESH_SECONDS }, setXAuthRequest: true },
      accounts: (login) => (login === 'eve' ? { email: `${login}@example.com`, email_verified: false } : { email: `${login}@example.com` }),
    });
    startMs = h.clock.nowMs();
  });
  afterEach(() => { h.clock.advanceMs(startMs - h.clock.nowMs()); });
  after(() => h.close());

  it('signs the user in, as oauth2-proxy does', async () => {
    const { jar, callback } = await h.signIn('ada');
    assert.equal(callback.status, 302);
    assert.equal(sessionSet(callback), true);
    const check = await h.authCheck(jar);
    assert.equal(check.status, 202);
    assert.equal(check.headers.get('x-auth-request-email'), 'ada@example.com');
  });

  it('keeps the session through a refresh that again brings no email_verified', async () => {
    const { jar } = await h.signIn('ada');
    h.clock.advanceMs((REFRESH_SECONDS + 1) * 1000);
    const check = await h.authCheck(jar);
    assert.equal(check.status, 202);
    assert.ok(check.headers.getSetCookie().some((l) => l.startsWith('_oauth2_proxy=')), 'the session was refreshed, not only kept');
  });

  it('still refuses an email the provider says is not verified', async () => {
    const { callback } = await h.signIn('eve');
    assert.equal(callback.status, 403);
    assert.equal(sessionSet(callback), false);
  });
});

describe('--oidc-groups-claim=realm_access.roles (Keycloak)', () => {
  const roles: Record<string, string[]> = { ada: ['admin', 'staff'], bob: ['staff'] };
  // Keycloak nests roles in an object; the reference provider only sends flat claims, so its
  // userinfo answer gets Keycloak's claim added on the way to the proxy.
  const withRealmRoles: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (new URL(String(input)).pathname !== '/me' || !response.ok) return response;
    const claims = await response.json() as Record<string, unknown>;
    return Response.json({ ...claims, realm_access: { roles: roles[String(claims.sub)] ?? [] } });
  };
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({
      config: { oidcGroupsClaim: 'realm_access.roles', allowedGroups: ['admin'], setXAuthRequest: true },
      accounts: (login) => ({ email: `${login}@example.com`, email_verified: true }),
      fetch: withRealmRoles,
    });
  });
  after(() => h.close());

  it('lets in a member of the allowed role and names the roles in X-Auth-Request-Groups', async () => {
    const { jar, callback } = await h.signIn('ada');
    assert.equal(callback.status, 302);
    const check = await h.authCheck(jar);
    assert.equal(check.status, 202);
    assert.equal(check.headers.get('x-auth-request-groups'), 'admin,staff');
  });

  it('refuses an account without the role', async () => {
    const { callback } = await h.signIn('bob');
    assert.equal(callback.status, 403);
  });
});

// latchkey id (and Pocket ID) have users without an email. oauth2-proxy refuses such a sign-in;
// latchkey lets it through only where no rule is about emails (--email-domain=*), identified by
// its subject (docs/configuration-proxy.md, "Where latchkey differs").
describe('an account with no email', () => {
  const accounts = (login: string) => (login === 'kim' ? {} : { email: `${login}@example.com`, email_verified: true });

  it('passes --email-domain=*, with its subject as the user and no email', async () => {
    const h = await startProxyHarness({ config: { emailDomains: ['*'], setXAuthRequest: true }, accounts });
    try {
      const { jar, callback } = await h.signIn('kim');
      assert.equal(callback.status, 302);
      const check = await h.authCheck(jar);
      assert.equal(check.status, 202);
      assert.equal(check.headers.get('x-auth-request-user'), 'kim');
      assert.equal(check.headers.get('x-auth-request-email'), '');
      assert.equal((await h.authCheck(jar, { query: 'allowed_emails=kim@example.com' })).status, 403, 'a rule about emails refuses it');
      assert.equal((await h.authCheck(jar, { query: 'allowed_email_domains=*' })).status, 403);
    } finally {
      await h.close();
    }
  });

  it('is refused by any --email-domain that names a domain', async () => {
    const h = await startProxyHarness({ config: { emailDomains: ['example.com'] }, accounts });
    try {
      const { callback } = await h.signIn('kim');
      assert.equal(callback.status, 403);
      assert.equal(sessionSet(callback), false);
    } finally {
      await h.close();
    }
  });
});

describe('upstreams = ["file:///dev/null"], the oauth2-proxy Helm chart\'s default', () => {
  let h: ProxyHarness;
  before(async () => {
    const { upstreams } = loadProxyConfig({
      argv: ['--client-id=x', '--client-secret=x', '--oidc-issuer-url=http://127.0.0.1:1', `--cookie-secret=${randomBytes(32).toString('base64url')}`,
        '--email-domain=*', '--upstream=file:///dev/null'],
      env: {},
    });
    h = await startProxyHarness({ config: { upstreams } });
  });
  after(() => h.close());

  it('asks a visitor who is not signed in to sign in, as oauth2-proxy does', async () => {
    const response = await fetch(`${h.proxyUrl}/`, { redirect: 'manual' });
    await response.arrayBuffer();
    assert.equal(response.status, 403, 'the sign-in page');
  });

  it('answers 404 to every signed-in request, as oauth2-proxy\'s file server of /dev/null does', async () => {
    const { jar } = await h.signIn('ada');
    for (const path of ['/', '/dev/null', '/private/page.html']) {
      const response = await jar.fetch(`${h.proxyUrl}${path}`);
      await response.arrayBuffer();
      assert.equal(response.status, 404, path);
    }
  });
});
