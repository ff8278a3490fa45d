// A session whose account the configured rules (--email-domain, --allowed-group,
// --authenticated-emails-file) refuse, e.g. one issued before the rules changed: oauth2-proxy's
// getAuthenticatedSession clears it as invalid, so /oauth2/auth and /oauth2/userinfo answer 401
// (nginx's error_page 401 then signs the visitor in again) and the upstream mode 403. Only the
// per-request rules of the /oauth2/auth query (allowed_groups=…) answer 403 and keep the session.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCookieCodec } from '../../src/proxy/cookie-codec.ts';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.ts';
import type { Session } from '../../src/proxy/session.ts';
import { proxyConfigFixture } from '../helpers/proxy-config-fixture.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';

const config = proxyConfigFixture({ emailDomains: ['example.com'], allowedGroups: ['staff'], logLevel: 'error' });

/** A session cookie as a sign-in under other rules would have left it. */
function cookieOf(email: string, groups: string[]): string {
  const now = Math.floor(Date.now() / 1000);
  const session: Session = {
    sub: email, email, emailVerified: true, preferredUsername: email.split('@')[0], groups, idToken: 'h.p.s', accessToken: 'at', refreshToken: '',
    sid: 's1', createdAt: now - 10, expiresAt: now + 3600, refreshAt: 0,
  };
  const [line] = createCookieCodec(config.cookie.name, config.cookie.secret).write(session, { domain: null, path: '/', secure: false, httpOnly: true, sameSite: '' }, 3600, Date.now(), new Map());
  return line.split(';')[0];
}

const ADA = cookieOf('ada@example.com', ['staff']);
const OUTSIDE_DOMAIN = cookieOf('bob@example.org', ['staff']);
const OUTSIDE_GROUP = cookieOf('cy@example.com', ['guests']);
/** Whether the answer deletes the session cookie. */
const clears = (response: Response) => response.headers.getSetCookie().some((line) => /^_oauth2_proxy=;/.test(line) && /Max-Age=0/i.test(line));

describe('a session the configured rules refuse', () => {
  const servers: ProxyServer[] = [];
  const urls: Record<'fast' | 'fastify', string> = { fast: '', fastify: '' };
  before(async () => {
    // /oauth2/auth in front of fastify, and (with --metrics-address) as a fastify route
    const fast = await createProxyServer(config);
    const fastify = await createProxyServer({ ...config, metricsAddress: { host: '127.0.0.1', port: 0 } });
    servers.push(fast, fastify);
    urls.fast = (await fast.listen()).url;
    urls.fastify = (await fastify.listen()).url;
  });
  after(async () => {
    for (const server of servers) await server.close();
  });

  for (const transport of ['fast', 'fastify'] as const) {
    it(`gets 401 at /oauth2/auth and the cookie deleted, outside --email-domain or --allowed-group (${transport})`, async () => {
      for (const cookie of [OUTSIDE_DOMAIN, OUTSIDE_GROUP]) {
        const response = await fetch(`${urls[transport]}/oauth2/auth`, { headers: { cookie } });
        assert.equal(response.status, 401);
        assert.ok(clears(response), response.headers.getSetCookie().join(' | '));
        assert.equal(response.headers.get('x-auth-request-user'), null);
      }
    });

    it(`keeps 403, and the session, for a rule of the /oauth2/auth query (${transport})`, async () => {
      const response = await fetch(`${urls[transport]}/oauth2/auth?allowed_groups=admins`, { headers: { cookie: ADA } });
      assert.equal(response.status, 403);
      assert.deepEqual(response.headers.getSetCookie(), []);
      assert.equal((await fetch(`${urls[transport]}/oauth2/auth`, { headers: { cookie: ADA } })).status, 202);
    });
  }

  it('gets 401 when it fails both the configured rules and the query rules: the session is no good anywhere', async () => {
    const response = await fetch(`${urls.fast}/oauth2/auth?allowed_groups=admins`, { headers: { cookie: OUTSIDE_DOMAIN } });
    assert.equal(response.status, 401);
    assert.ok(clears(response));
  });

  it('gets 401 at /oauth2/userinfo, with the cookie deleted', async () => {
    const response = await fetch(`${urls.fast}/oauth2/userinfo`, { headers: { cookie: OUTSIDE_GROUP, accept: 'application/json' } });
    assert.equal(response.status, 401);
    assert.ok(clears(response));
    await response.arrayBuffer();
    const allowed = await fetch(`${urls.fast}/oauth2/userinfo`, { headers: { cookie: ADA } });
    assert.equal(allowed.status, 200);
    assert.equal((await allowed.json() as { email: string }).email, 'ada@example.com');
  });

  it('gets a 403 page naming the account in upstream mode, with the cookie deleted, and never reaches the upstream', async () => {
    const response = await fetch(`${urls.fast}/private/page`, { headers: { cookie: OUTSIDE_DOMAIN, accept: 'text/html' } });
    assert.equal(response.status, 403);
    assert.ok(clears(response));
    const page = await response.text();
    assert.match(page, /signed in as <strong>bob<\/strong>/);
    assert.doesNotMatch(page, /Authenticated/, 'not the static upstream');
  });
});

describe('an account taken out of the --allowed-group, seen at the next refresh', () => {
  const REFRESH_SECONDS = 60;
  const groups = new Map<string, string[]>([['ada', ['staff']]]);
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({
      config: { allowedGroups: ['staff'], cookie: { refreshSeconds: REFRESH_SECONDS } },
      accounts: (login) => ({ email: `${login}@example.com`, email_verified: true, groups: groups.get(login) ?? [] }),
    });
  });
  after(() => h.close());

  it('is refreshed first, then refused with 401 and signed out, so nginx sends the visitor to sign in', async () => {
    const { jar } = await h.signIn('ada');
    assert.equal((await h.authCheck(jar)).status, 202);
    groups.set('ada', []);
    h.clock.advanceMs((REFRESH_SECONDS + 1) * 1000);
    const refused = await h.authCheck(jar);
    assert.equal(refused.status, 401);
    assert.ok(clears(refused), refused.headers.getSetCookie().join(' | '));
    assert.equal(jar.get(h.proxyUrl, '_oauth2_proxy'), undefined);
  });
});
