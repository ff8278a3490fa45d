import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseSkipAuthRoute, type SkipAuthRoute } from '../../src/config/skip-auth-route.ts';
import { createCsrfCookies } from '../../src/proxy/csrf.ts';
import { parseCookieHeader } from '../../src/proxy/cookie-header.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import { CookieJar } from '../helpers/reference-provider.ts';

const accounts = (login: string) => ({
  email: login === 'outsider' ? 'outsider@evil.test' : `${login}@example.com`,
  email_verified: login !== 'unverified',
  groups: login === 'ada' || login === 'unverified' ? ['staff'] : ['guests'],
});
const sessionSet = (response: Response) => response.headers.getSetCookie().some((l) => /^_oauth2_proxy(_\d+)?=[^;]/.test(l));

describe('sign-in rules at the callback', () => {
  let h: ProxyHarness;
  before(async () => { h = await startProxyHarness({ config: { emailDomains: ['example.com'] }, accounts }); });
  after(() => h.close());

  it('refuses an email outside --email-domain with a 403 page and no session', async () => {
    const { jar, callback } = await h.signIn('outsider');
    assert.equal(callback.status, 403);
    assert.equal(sessionSet(callback), false);
    assert.equal((await h.authCheck(jar)).status, 401);
  });

  it('refuses an unverified email', async () => {
    const { callback } = await h.signIn('unverified');
    assert.equal(callback.status, 403);
    assert.equal((await callback.json()).error, 'email_not_verified');
    assert.equal(sessionSet(callback), false);
  });

  it('accepts a verified email inside the domain', async () => {
    const { callback } = await h.signIn('ada');
    assert.equal(callback.status, 302);
    assert.equal(sessionSet(callback), true);
  });
});

describe('sign-in rules with --allowed-group and --insecure-oidc-allow-unverified-email', () => {
  let h: ProxyHarness;
  before(async () => { h = await startProxyHarness({ config: { allowedGroups: ['staff'], insecureOidcAllowUnverifiedEmail: true }, accounts }); });
  after(() => h.close());

  it('refuses a user outside every allowed group', async () => {
    const { callback } = await h.signIn('bob');
    assert.equal(callback.status, 403);
    assert.equal(sessionSet(callback), false);
  });

  it('lets an unverified email through when told to, if the other rules pass', async () => {
    const { callback } = await h.signIn('ada');
    assert.equal(callback.status, 302);
    const { callback: unverified } = await h.signIn('unverified');
    assert.equal(unverified.status, 302);
    assert.equal(sessionSet(unverified), true);
  });
});

// A signed-in account the rules refuse sees who it is signed in as and how to switch accounts, as
// a page rather than an error with a reference number; the groups that would be let in are not
// named (oauth2-proxy shows a plain "Forbidden").
describe('the page for a signed-in account that --allowed-group refuses', () => {
  const GROUP = 'grp-7f3a_staff';
  const groups: Record<string, string[]> = { bob: ['guests'], cy: [GROUP], dee: [GROUP] };
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({
      config: { allowedGroups: [GROUP], upstreams: [{ kind: 'static', statusCode: 200 }], cookie: { refreshSeconds: 60 } },
      accounts: (login) => ({ email: `${login}@example.com`, email_verified: true, preferred_username: `${login}-name`, groups: groups[login] ?? [] }),
    });
  });
  after(() => h.close());

  const assertNotAllowedPage = async (response: Response, name: string) => {
    assert.equal(response.status, 403);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const page = await response.text();
    assert.match(page, new RegExp(`You are signed in as <strong>${name}</strong>, but this account does not have access here`));
    assert.match(page, /<a href="\/oauth2\/sign_out\?rd=[^"]+">sign out<\/a>, then sign in with it/);
    assert.ok(!page.includes(GROUP) && !page.includes('staff'), 'the allowed group is not named');
    assert.doesNotMatch(page, /Reference:|not_allowed|forbidden/i);
  };

  it('at sign-in: a page for a browser, the JSON error for a program', async () => {
    const jar = new CookieJar();
    const atSignIn = await jar.fetch(await h.reachCallback(jar, 'bob'), { headers: { accept: 'text/html' } });
    await assertNotAllowedPage(atSignIn.clone(), 'bob-name');
    assert.doesNotMatch(await atSignIn.text(), /sign out and in again/, 'the groups of a sign-in just made are current already');
    const program = await jar.fetch(await h.reachCallback(jar, 'bob'));
    assert.equal(program.status, 403);
    assert.deepEqual({ ...(await program.json()), requestId: undefined }, {
      error: 'not_allowed', message: 'You signed in as bob-name, but that account is not allowed here.', signedInAs: 'bob-name', requestId: undefined,
    });
  });

  it('later, once the account left the group: the page, and its sign-out link leads to signing in again', async () => {
    const { jar } = await h.signIn('cy');
    assert.equal((await jar.fetch(`${h.proxyUrl}/app/`)).status, 200);
    groups.cy = ['guests'];
    h.clock.advanceMs(61_000); // the next request refreshes the session and sees the new groups
    await assertNotAllowedPage(await jar.fetch(`${h.proxyUrl}/app/`, { headers: { accept: 'text/html' } }), 'cy-name');
    // the refused session is deleted, as oauth2-proxy deletes one that fails its rules: what follows is a sign-in
    assert.equal(jar.get(h.proxyUrl, '_oauth2_proxy'), undefined);
    const program = await jar.fetch(`${h.proxyUrl}/app/`, { headers: { accept: 'application/json' } });
    assert.equal(program.status, 401);
    assert.equal((await program.json()).error, 'unauthorized');

    const signOut = await jar.fetch(`${h.proxyUrl}/oauth2/sign_out`);
    assert.equal(signOut.status, 302);
    const after = await jar.fetch(`${h.proxyUrl}/app/`, { headers: { accept: 'text/html' } });
    assert.match(await after.text(), /Sign in with your passkey/);
  });

  it('later, when the group is given back after the session lost it: "sign out and in again" returns to the page, and the new sign-in lets it in', async () => {
    const { jar } = await h.signIn('dee');
    groups.dee = ['guests'];
    h.clock.advanceMs(61_000); // the session is refreshed and loses the group
    const refused = await jar.fetch(`${h.proxyUrl}/app/?a=1&b=2`, { headers: { accept: 'text/html' } });
    await assertNotAllowedPage(refused.clone(), 'dee-name');
    const href = /<a href="([^"]+)">sign out and in again<\/a>/.exec(await refused.text())![1].replaceAll('&amp;', '&');
    assert.equal(href, '/oauth2/sign_out?rd=%2Fapp%2F%3Fa%3D1%26b%3D2');
    groups.dee = [GROUP];
    const signOut = await jar.fetch(new URL(href, h.proxyUrl).href);
    assert.equal(signOut.status, 302);
    assert.equal(signOut.headers.get('location'), '/app/?a=1&b=2');
    const signIn = await h.signIn('dee', { jar, rd: '/app/?a=1&b=2' });
    assert.equal(signIn.callback.headers.get('location'), '/app/?a=1&b=2');
    assert.equal((await jar.fetch(`${h.proxyUrl}/app/?a=1&b=2`)).status, 200);
  });

  it("continues the page's sign-out to the provider's sign-out, so that another account can sign in", async () => {
    const jar = new CookieJar();
    const page = await (await jar.fetch(await h.reachCallback(jar, 'bob'), { headers: { accept: 'text/html' } })).text();
    const href = /<a href="([^"]+)">sign out<\/a>/.exec(page)![1].replaceAll('&amp;', '&');
    const signOut = await jar.fetch(new URL(href, h.proxyUrl).href);
    assert.equal(signOut.status, 302);
    const location = new URL(signOut.headers.get('location')!);
    const metadata = await (await fetch(`${h.proxy.runtime.config.oidcIssuerUrl}/.well-known/openid-configuration`)).json() as { end_session_endpoint: string };
    assert.equal(`${location.origin}${location.pathname}`, metadata.end_session_endpoint, 'to the provider (signing out of the site alone would sign the same account straight back in)');
    assert.equal(location.searchParams.get('client_id'), h.proxy.runtime.config.clientId);
  });
});

describe('the sign-in page', () => {
  let button: ProxyHarness;
  let skip: ProxyHarness;
  before(async () => {
    button = await startProxyHarness();
    skip = await startProxyHarness({ config: { skipProviderButton: true, cookie: { csrfPerRequest: true } } });
  });
  after(async () => { await button.close(); await skip.close(); });

  it('shows a button that starts the sign-in with the original page from X-Auth-Request-Redirect', async () => {
    const response = await fetch(`${button.proxyUrl}/oauth2/sign_in`, { headers: { 'x-auth-request-redirect': '/private/a?b=1' } });
    assert.equal(response.status, 200);
    const page = await response.text();
    assert.match(page, /<form method="get" action="\/oauth2\/start">/);
    assert.match(page, /name="rd" value="\/private\/a\?b=1"/);
  });

  it('escapes the redirect it puts in the page', async () => {
    const page = await (await fetch(`${button.proxyUrl}/oauth2/sign_in?rd=${encodeURIComponent('/private/"><script>')}`)).text();
    assert.ok(!page.includes('<script>'));
  });

  it('goes straight to the provider with --skip-provider-button, remembering X-Auth-Request-Redirect', async () => {
    const jar = new CookieJar();
    const response = await jar.fetch(`${skip.proxyUrl}/oauth2/sign_in`, { headers: { 'x-auth-request-redirect': '/private/deep/page' } });
    assert.equal(response.status, 302);
    const state = new URL(response.headers.get('location')!).searchParams.get('state')!;
    const attempt = createCsrfCookies(skip.config.cookie).read(parseCookieHeader(jar.header(skip.proxyUrl)), state, Math.floor(skip.clock.nowMs() / 1000));
    assert.equal(attempt?.redirect, '/private/deep/page');
  });

  it('names the CSRF cookie per request with --cookie-csrf-per-request, so two tabs can sign in at once', async () => {
    const jar = new CookieJar();
    const first = await skip.reachCallback(jar, 'ada', '/one');
    const second = await skip.reachCallback(jar, 'ada', '/two');
    const csrfNames = jar.names(skip.proxyUrl).filter((n) => n.endsWith('_csrf'));
    assert.equal(csrfNames.length, 2);
    assert.ok(csrfNames.every((n) => /^_oauth2_proxy_[\w-]{16}_csrf$/.test(n)));
    assert.equal((await jar.fetch(first)).headers.get('location'), '/one');
    assert.equal((await jar.fetch(second)).headers.get('location'), '/two');
  });

  it('uses the original request URI when nginx sends the browser to sign_in by error_page (not a proxy endpoint)', async () => {
    const jar = new CookieJar();
    const response = await jar.fetch(`${skip.proxyUrl}/private/report.html?x=1`);
    assert.equal(response.status, 302);
    const state = new URL(response.headers.get('location')!).searchParams.get('state')!;
    const attempt = createCsrfCookies(skip.config.cookie).read(parseCookieHeader(jar.header(skip.proxyUrl)), state, Math.floor(skip.clock.nowMs() / 1000));
    assert.equal(attempt?.redirect, '/private/report.html?x=1');
  });
});

// oauth2-proxy's AuthOnly lets a --skip-auth-route through too, matched against the browser's
// request as the reverse proxy forwards it (X-Forwarded-Uri): the route lists public paths under
// an auth_request location, which the auth endpoint must then not refuse.
describe('--skip-auth-route at /oauth2/auth', () => {
  const routes = ['^/public/', 'GET=^/files/'].map((entry) => parseSkipAuthRoute(entry) as SkipAuthRoute);
  const config = { setXAuthRequest: true, reverseProxy: true, skipAuthRoutes: routes };
  let h: ProxyHarness;
  let untrusted: ProxyHarness;
  before(async () => {
    // An empty trusted list means loopback, where the test client is.
    h = await startProxyHarness({ config: { ...config, trustedProxyIps: [] }, accounts });
    untrusted = await startProxyHarness({ config: { ...config, trustedProxyIps: ['10.0.0.1'] }, accounts });
  });
  after(async () => { await h.close(); await untrusted.close(); });
  const asking = (uri: string, more: Record<string, string> = {}) => ({ headers: { 'x-forwarded-uri': uri, 'x-forwarded-host': 'site.example', ...more } });

  it('answers 202 without identity headers to a browser without a session asking for a public path, and 401 for any other', async () => {
    for (const uri of ['/public/style.css', '/public/a.css?v=2', '/%70ublic/a.css']) {
      const response = await h.authCheck(null, asking(uri));
      assert.equal(response.status, 202, uri);
      assert.equal(response.headers.get('x-auth-request-user'), null, uri);
    }
    assert.equal((await h.authCheck(null, asking('/private/x'))).status, 401);
  });

  it('still sends the identity of an allowed session on a public path, and none of one the query refuses', async () => {
    const { jar } = await h.signIn('ada');
    const allowed = await h.authCheck(jar, asking('/public/style.css'));
    assert.equal(allowed.status, 202);
    assert.equal(allowed.headers.get('x-auth-request-email'), 'ada@example.com');
    const refused = await h.authCheck(jar, { query: 'allowed_groups=admins', ...asking('/public/style.css') });
    assert.equal(refused.status, 202);
    assert.equal(refused.headers.get('x-auth-request-email'), null);
    assert.equal((await h.authCheck(jar, { query: 'allowed_groups=admins', ...asking('/private/x') })).status, 403);
  });

  it('never takes a path that is not in its clean form for a public one', async () => {
    for (const uri of ['/public/../private/x', '/public/%2e%2e/private/x', '/public//../private/x', '/public\\..\\private/x', '/public/x#', '/public%2fx'])
      assert.equal((await h.authCheck(null, asking(uri))).status, 401, uri);
  });

  // A comma is an ordinary character in a path; read as a list separator, `/public/a` was checked
  // while nginx served /private/secret.
  it('reads X-Forwarded-Uri whole, commas included, so a comma cannot hide the rest of the path', async () => {
    for (const uri of ['/public/a,/../../private/secret', '/x.css,/../private/secret'])
      assert.equal((await h.authCheck(null, asking(uri))).status, 401, uri);
    assert.equal((await h.authCheck(null, asking('/public/a,b.css'))).status, 202, 'a clean path with a comma is still public');
  });

  it('checks a METHOD= route against X-Forwarded-Method when the proxy sends it, else the request\'s own method', async () => {
    assert.equal((await h.authCheck(null, asking('/files/a.pdf'))).status, 202);
    assert.equal((await h.authCheck(null, asking('/files/a.pdf', { 'x-forwarded-method': 'GET' }))).status, 202);
    assert.equal((await h.authCheck(null, asking('/files/a.pdf', { 'x-forwarded-method': 'DELETE' }))).status, 401);
    assert.equal((await h.authCheck(null, asking('/public/a.css', { 'x-forwarded-method': 'DELETE' }))).status, 202, 'a route without a method is for every method');
  });

  it('does not believe X-Forwarded-Uri from a peer it does not trust', async () => {
    assert.equal((await untrusted.authCheck(null, asking('/public/style.css'))).status, 401);
  });
});
