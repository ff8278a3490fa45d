import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { parseForm } from '../helpers/browser-jar.ts';
import { idBrowser } from '../helpers/id-browser.ts';
import { rawRequest } from '../helpers/raw-request.ts';
import { startServe, type ServeServer } from '../helpers/serve-server.ts';

type Browser = ReturnType<typeof idBrowser>;

describe('latchkey serve: site, proxy and identity provider in one process', () => {
  let serve: ServeServer;
  let alice: Browser;
  /** A friend invited with a one-time link, in no group. */
  let carol: Browser;
  let carolId: string;
  const toLogin = (next: URL) => !(next.origin === serve.idOrigin && next.pathname === '/login');

  /** Follows the browser from a site address until it answers, or until the provider asks to sign in. */
  const visit = (browser: Browser, path: string) => browser.jar.follow(new URL(path, serve.siteOrigin).href, toLogin);

  before(async () => {
    serve = await startServe();
    alice = idBrowser(serve.idOrigin);
  });
  after(() => serve.close());

  it('serves a public file to anyone, without a session', async () => {
    const response = await fetch(`${serve.siteOrigin}/`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /Public home/);
    assert.equal(response.headers.get('cache-control'), null);
  });

  it('sends a visitor without a session from /private/ to the proxy, then to the provider\'s sign-in page', async () => {
    const { hops } = await visit(idBrowser(serve.idOrigin), '/private/');
    assert.equal(hops[0].status, 302);
    assert.equal(hops[0].location, '/oauth2/start?rd=%2Fprivate%2F');
    const toProvider = new URL(hops[1].location!);
    assert.equal(`${toProvider.origin}${toProvider.pathname}`, `${serve.idOrigin}/authorize`);
    assert.equal(toProvider.searchParams.get('redirect_uri'), `${serve.siteOrigin}/oauth2/callback`);
    assert.ok(hops.at(-1)!.location!.startsWith(`${serve.idOrigin}/login?next=%2Finteraction%2F`), hops.at(-1)!.location!);
  });

  it('redirects a signed-out navigation to sign in, whether or not the client sends Fetch Metadata', async () => {
    const navigation = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'none' };
    for (const headers of [navigation, {}]) {
      const answer = await rawRequest(serve.siteOrigin, '/private/notes.txt', { headers });
      assert.equal(answer.status, 302, JSON.stringify(headers));
      assert.equal(answer.headers.location, '/oauth2/start?rd=%2Fprivate%2Fnotes.txt');
    }
  });

  it('answers a signed-out image or fetch 401 with a challenge, never a sign-in redirect that would leave a CSRF cookie', async () => {
    for (const headers of [{ 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image', 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', 'sec-fetch-site': 'same-origin' }]) {
      const answer = await rawRequest(serve.siteOrigin, '/private/notes.txt', { headers });
      assert.equal(answer.status, 401, JSON.stringify(headers));
      assert.equal(answer.headers['cache-control'], 'private, no-store');
      assert.equal(answer.headers['www-authenticate'], 'Cookie realm="/private/", form-action="/oauth2/start?rd=%2Fprivate%2Fnotes.txt", cookie-name="_oauth2_proxy"');
      assert.equal(answer.headers['set-cookie'], undefined);
      assert.doesNotMatch(answer.body, /SECRET/);
    }
  });

  it('answers a signed-out POST under a protected prefix 401 with a WWW-Authenticate challenge (RFC 9110 §15.5.2)', async () => {
    const answer = await rawRequest(serve.siteOrigin, '/private/family/', { method: 'POST' });
    assert.equal(answer.status, 401);
    assert.match(String(answer.headers['www-authenticate']), /^Cookie realm="\/private\/family\/"/);
  });

  it('creates the first admin from the setup link, who registers a passkey and comes back through the OIDC flow to /private/', async () => {
    const first = await visit(alice, '/private/');
    assert.ok(first.hops.at(-1)!.location!.startsWith(`${serve.idOrigin}/login?`));
    const { token } = await serve.id.services.identity.setup.issueLink();
    await alice.page(`/setup?token=${token}`);
    const created = await alice.form('/setup', { token, username: 'alice', email: 'alice@example.com', firstName: 'Alice', lastName: '' });
    assert.equal(created.status, 303);
    await alice.page('/account?welcome=1');
    const registered = await alice.registerPasskey('Laptop');
    assert.equal(registered.response.status, 200, JSON.stringify(registered.body));

    const back = await visit(alice, '/private/');
    assert.equal(back.response.status, 200, back.hops.map((h) => `${h.status} ${h.url}`).join(' → '));
    assert.equal(back.url, `${serve.siteOrigin}/private/`);
    assert.match(await back.response.text(), /PRIVATE-INDEX-SECRET/);
    assert.equal(back.response.headers.get('cache-control'), 'private, no-store');
    assert.ok(back.hops.some((h) => h.url.startsWith(`${serve.siteOrigin}/oauth2/callback?`)), 'went through the callback');
  });

  it('serves every file under the prefix to the signed-in user, each marked private, no-store', async () => {
    const response = await alice.jar.fetch(`${serve.siteOrigin}/private/notes.txt`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'PRIVATE-NOTES-SECRET');
    assert.equal(response.headers.get('cache-control'), 'private, no-store');
  });

  it('refuses a group-only section to a signed-in user outside the group with a page, not a redirect, that names no group', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await alice.jar.fetch(`${serve.siteOrigin}/private/family/`);
      assert.equal(response.status, 403);
      assert.equal(response.headers.get('location'), null);
      assert.equal(response.headers.get('cache-control'), 'private, no-store');
      assert.equal(response.headers.get('x-frame-options'), 'DENY', 'its sign-out link is not to be clickjacked');
      assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      const page = await response.text();
      assert.match(page, /signed in as <strong>alice<\/strong>/);
      assert.match(page, /this account does not have access here/);
      // the page's own address comes back in its "sign out and in again" link; no group is named
      assert.doesNotMatch(page.replaceAll('rd=%2Fprivate%2Ffamily%2F"', ''), /(?<!font-)family/, 'who may see the section is not told to those who may not');
      assert.match(page, /<a href="\/oauth2\/sign_out">sign out<\/a>/);
      assert.doesNotMatch(page, /FAMILY-ONLY-SECRET/);
    }
  });

  it('admits a member of the group to the group-only section', async () => {
    const { identity } = serve.id.services;
    await identity.groups.create({ name: 'family' });
    const bob = await identity.users.create({ username: 'bob' });
    await identity.groups.setUserGroups(bob.id, ['family']);
    const { token } = await identity.links.issue('signin', bob.id, 600);
    const browser = idBrowser(serve.idOrigin);
    assert.equal((await browser.useOneTimeLink(token)).status, 303);
    const family = await visit(browser, '/private/family/');
    assert.equal(family.response.status, 200, family.hops.map((h) => `${h.status} ${h.url}`).join(' → '));
    assert.match(await family.response.text(), /FAMILY-ONLY-SECRET/);
  });

  it('leads a friend who enrolled a passkey from a one-time link on to the private section of the site', async () => {
    const { identity } = serve.id.services;
    carolId = (await identity.users.create({ username: 'carol' })).id;
    const { token } = await identity.links.issue('signin', carolId, 600);
    carol = idBrowser(serve.idOrigin);
    assert.equal((await carol.useOneTimeLink(token)).status, 303);
    for (const path of ['/account?welcome=1', '/account/profile', '/account/sessions', '/account/recovery-codes'])
      assert.doesNotMatch((await carol.page(path)).html, /Go to the site/, `${path}: not before there is a passkey to come back with`);
    assert.equal((await carol.registerPasskey('Phone')).response.status, 200);
    const { html } = await carol.page('/account?added=1');
    const href = /<a class="button primary" href="([^"]+)">Go to the site<\/a>/.exec(html)?.[1];
    assert.equal(href, `${serve.siteOrigin}/private/`);
    const site = await visit(carol, href);
    assert.equal(site.response.status, 200, site.hops.map((h) => `${h.status} ${h.url}`).join(' → '));
    assert.match(await site.response.text(), /PRIVATE-INDEX-SECRET/);
  });

  it('offers the way back to the site on every account page once there is a passkey, in the header', async () => {
    for (const path of ['/account', '/account/profile', '/account/sessions', '/account/recovery-codes']) {
      const { response, html } = await carol.page(path);
      assert.equal(response.status, 200, path);
      const href = /<nav aria-label="Account">\s*<a href="([^"]+)">Go to the site<\/a>/.exec(html)?.[1];
      assert.equal(href, `${serve.siteOrigin}/private/`, path);
    }
  });

  it('tells the admin that groups act through serve\'s --protect rules, and asks for no app to be added', async () => {
    await serve.id.services.identity.groups.create({ name: 'friends' });
    const overview = (await alice.page('/admin')).html;
    assert.doesNotMatch(overview, /Add an app/, 'serve sets up its own client');
    assert.match(overview, /--protect PATH=GROUP/);
    const groups = (await alice.page('/admin/groups')).html;
    assert.match(groups, /a group has an effect only where a <code>--protect PATH=GROUP<\/code> rule of <code>latchkey serve<\/code> names it\.\s+The current rules name <code>family<\/code>\./);
    assert.match(groups, /<code>friends<\/code> <span class="muted">\(no --protect rule names it\)<\/span>/);
    assert.doesNotMatch(groups, /<code>family<\/code> <span class="muted">/);
    assert.doesNotMatch(groups, /--allowed-group/);
  });

  it("counts no app for the site's own client on the overview, and shows that client as serve's, with nothing to change", async () => {
    assert.match((await alice.page('/admin')).html, /<strong>0<\/strong> apps besides the site’s own<\/a>/);
    const list = (await alice.page('/admin/clients')).html;
    assert.match(list, /<a href="\/admin\/clients\/latchkey-serve">[^<]+<\/a> <span class="badge">managed by latchkey serve<\/span>/);
    assert.match(list, /The site's own app \(<code>latchkey-serve<\/code>\) is set up by <code>latchkey serve<\/code> at every start: it is listed here, but cannot be changed, given a new secret or deleted\./);
    const detail = await alice.page('/admin/clients/latchkey-serve');
    assert.equal(detail.response.status, 200);
    assert.match(detail.html, /It cannot be changed, given a new secret or deleted here/);
    assert.doesNotMatch(detail.html, /<form method="post"[^>]*action="\/admin\/clients\/latchkey-serve/, 'no form that would be refused (409 client_managed)');
    assert.doesNotMatch(detail.html, /Regenerate secret|Delete app|Save changes|--client-id/);
    for (const action of ['secret', 'delete']) {
      const confirm = (await alice.page(`/admin/clients/latchkey-serve/${action}`)).html;
      assert.match(confirm, /latchkey serve sets up this app at every start; it cannot be given a new secret or deleted here/, action);
      assert.doesNotMatch(confirm, /name="confirm"/, action);
    }

    await serve.id.services.clients.create({ id: 'photos', name: 'Photos', redirectUris: [`${serve.siteOrigin}/photos/callback`], unrestricted: true });
    assert.match((await alice.page('/admin')).html, /<strong>1<\/strong> apps besides the site’s own<\/a>/);
    assert.doesNotMatch((await alice.page('/admin/clients')).html, /Photos<\/a> <span class="badge">managed/, 'an app an admin made is theirs to change');
    assert.match((await alice.page('/admin/clients/photos')).html, /Delete app…/);
    await serve.id.services.clients.delete('photos');
  });

  it('tells the admin who adds a signed-in friend to a group that the site sees it within 5 minutes, or at their next sign-in', async () => {
    assert.equal((await carol.jar.fetch(`${serve.siteOrigin}/private/family/`)).status, 403);
    await alice.page(`/admin/users/${carolId}`);
    const saved = await alice.form(`/admin/users/${carolId}`, { username: 'carol', email: '', firstName: '', lastName: '', groups: 'family' });
    assert.equal(saved.status, 303);
    const { html } = await alice.page(saved.headers.get('location')!);
    assert.match(html, /Changes saved\. If they are signed in, the site sees the new groups within 5 minutes, or at their next sign-in\./);
    assert.equal((await carol.jar.fetch(`${serve.siteOrigin}/private/family/`)).status, 403, 'as the message says, not yet');
  });

  it('lets a friend just added to a group in at once through the 403 page\'s "sign out and in again", without the passkey while the provider knows the browser', async () => {
    const refused = await carol.jar.fetch(`${serve.siteOrigin}/private/family/?from=walkthrough`);
    assert.equal(refused.status, 403);
    const href = /<a href="([^"]+)">sign out and in again<\/a>/.exec(await refused.text())?.[1].replaceAll('&amp;', '&');
    assert.equal(href, '/oauth2/sign_out?rd=%2Fprivate%2Ffamily%2F%3Ffrom%3Dwalkthrough');
    const again = await visit(carol, href);
    assert.equal(again.url, `${serve.siteOrigin}/private/family/?from=walkthrough`, again.hops.map((h) => `${h.status} ${h.url}`).join(' → '));
    assert.equal(again.response.status, 200);
    assert.match(await again.response.text(), /FAMILY-ONLY-SECRET/);
  });

  it('says before a group named by a --protect rule is deleted that its section closes to everyone, and it does', async () => {
    const groups = (await alice.page('/admin/groups')).html;
    assert.match(groups, /A --protect PATH=GROUP rule names the group by this name, exactly/);
    assert.doesNotMatch(groups, /Apps see this name/);
    const family = (await serve.id.services.identity.groups.findByName('family'))!;
    const { html } = await alice.page(`/admin/groups/${family.id}/delete`);
    const consequences = [...html.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => m[1].replaceAll('&#39;', "'"));
    assert.deepEqual(consequences, [
      '2 users leave this group; their accounts stay.',
      '/private/family/ (--protect /private/family/=family) is closed to everyone: nobody is in a group named family any more, so every signed-in user is refused there, until you create a group of that name again and add people to it, or change the rule.',
      'Former members signed in to the site keep their access for up to 5 minutes, until the site checks their session again.',
    ]);
    assert.doesNotMatch(html, /--allowed-group|No app is limited/);
    const friends = (await serve.id.services.identity.groups.findByName('friends'))!;
    assert.match((await alice.page(`/admin/groups/${friends.id}/delete`)).html, /<li>No --protect rule of latchkey serve names friends: nothing on the site changes\.<\/li>/);

    const deleted = await alice.form(`/admin/groups/${family.id}/delete`, { confirm: 'yes' });
    assert.equal(deleted.status, 303);
    // carol was let in above; signed in again, she has the groups she has now
    assert.equal((await carol.jar.fetch(`${serve.siteOrigin}/private/family/`)).status, 200, 'until the session is checked again');
    const again = await visit(carol, '/oauth2/sign_out?rd=%2Fprivate%2Ffamily%2F');
    assert.equal(again.url, `${serve.siteOrigin}/private/family/`, again.hops.map((h) => `${h.status} ${h.url}`).join(' → '));
    assert.equal(again.response.status, 403);
    assert.equal((await carol.jar.fetch(`${serve.siteOrigin}/private/`)).status, 200, 'the shorter rule is no way in to /private/family/, but still opens the rest');
  });

  it('answers the proxy\'s own endpoints on the site: /oauth2/auth says 401 without a session and 202 with one, never with the file', async () => {
    const anonymous = await rawRequest(serve.siteOrigin, '/oauth2/auth');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body, '');
    const signedIn = await alice.jar.fetch(`${serve.siteOrigin}/oauth2/auth`);
    assert.equal(signedIn.status, 202);
    assert.equal(await signedIn.text(), '');
    assert.equal((await fetch(`${serve.siteOrigin}/ping`)).status, 200);
    assert.equal((await fetch(`${serve.siteOrigin}/ready`)).status, 200);
    // whatever the method or a body's Content-Type: nginx makes a 500 of anything but 202, 401, 403
    const cookie = alice.jar.cookieHeader(new URL(serve.siteOrigin));
    for (const [method, contentType] of [['POST', ';;'], ['DELETE', 'text/plain; charset'], ['QUERY', 'application/json']]) {
      const odd = { method, headers: { 'content-type': contentType, 'content-length': '0' } };
      assert.equal((await rawRequest(serve.siteOrigin, '/oauth2/auth', odd)).status, 401, `${method} with Content-Type ${contentType}`);
      const withSession = await rawRequest(serve.siteOrigin, '/oauth2/auth', { ...odd, headers: { ...odd.headers, cookie } });
      assert.equal(withSession.status, 202, `${method} with Content-Type ${contentType}: ${withSession.body}`);
    }
  });

  it('never leaks a protected file without a session, whatever the spelling of the path or the method', async () => {
    const attempts = ['/private/notes.txt', '/PRIVATE/notes.txt', '//private/notes.txt', '/%70rivate/notes.txt', '/public/../private/notes.txt',
      '/x/..%2f..%2fprivate/notes.txt', '/private%2fnotes.txt', '/./private/notes.txt', '/private/./notes.txt', '/private/family/../notes.txt',
      '/oauth2/../private/notes.txt', '/private', '/private/notes.txt%00', '/private\\notes.txt', '/%2e%2e/private/notes.txt'];
    for (const path of attempts) {
      for (const method of ['GET', 'HEAD', 'POST']) {
        const answer = await rawRequest(serve.siteOrigin, path, { method, headers: { range: 'bytes=0-5' } });
        assert.notEqual(answer.status, 200, `${method} ${path}`);
        assert.notEqual(answer.status, 206, `${method} ${path}`);
        assert.doesNotMatch(answer.body, /SECRET/, `${method} ${path}`);
      }
    }
  });

  it('sends a browser with a tampered session cookie to sign in again', async () => {
    const cookie = /(?:^|; )(_oauth2_proxy=[^;]+)/.exec(alice.jar.cookieHeader(new URL(serve.siteOrigin)))?.[1];
    assert.ok(cookie, 'alice has a session cookie');
    const last = cookie.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${cookie.slice(0, -2)}${last}${cookie.at(-1)}`;
    const answer = await rawRequest(serve.siteOrigin, '/private/notes.txt', { headers: { cookie: tampered } });
    assert.equal(answer.status, 302);
    assert.equal(answer.headers.location, '/oauth2/start?rd=%2Fprivate%2Fnotes.txt');
    assert.doesNotMatch(answer.body, /SECRET/);
  });

  it('ends access to /private/ within a second when the user signs out at the identity provider (back-channel logout)', async () => {
    assert.equal((await alice.jar.fetch(`${serve.siteOrigin}/private/`)).status, 200);
    await alice.page('/account');
    const started = performance.now();
    const out = await alice.form('/logout', {});
    assert.equal(out.status, 303);
    const after = await alice.jar.fetch(`${serve.siteOrigin}/private/`);
    const elapsedMs = performance.now() - started;
    assert.equal(after.status, 302);
    assert.equal(after.headers.get('location'), '/oauth2/start?rd=%2Fprivate%2F');
    assert.ok(elapsedMs < 1000, `took ${elapsedMs} ms`);
    const signIn = await visit(alice, '/private/');
    assert.ok(signIn.hops.at(-1)!.location!.startsWith(`${serve.idOrigin}/login?next=`), 'the provider asks for the passkey again');
  });

  it('signs in again with the passkey and lands back on /private/', async () => {
    const { hops } = await visit(alice, '/private/');
    await alice.page(hops.at(-1)!.location!);
    const signedIn = await alice.signInWithPasskey();
    assert.equal(signedIn.response.status, 200, JSON.stringify(signedIn.body));
    const back = await alice.jar.follow(new URL(String(signedIn.body.redirectTo), serve.idOrigin).href);
    assert.equal(back.url, `${serve.siteOrigin}/private/`);
    assert.equal(back.response.status, 200);
    assert.match(await back.response.text(), /PRIVATE-INDEX-SECRET/);
  });

  it("asks before signing out when another site links to /oauth2/sign_out, and its button continues to the provider's sign-out", async () => {
    const fromOtherSite: Record<string, string>[] = [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' }];
    for (const headers of fromOtherSite) {
      const asked = await alice.jar.fetch(`${serve.siteOrigin}/oauth2/sign_out`, { headers });
      assert.equal(asked.status, 200, JSON.stringify(headers));
      assert.equal(asked.headers.get('set-cookie'), null);
      assert.equal(asked.headers.get('x-frame-options'), 'DENY');
      const form = parseForm(await asked.text(), `${serve.siteOrigin}/oauth2/sign_out`);
      const rd = new URL(new URL(form.action).searchParams.get('rd')!);
      assert.equal(`${rd.origin}${rd.pathname}`, `${serve.idOrigin}/api/oidc/end-session`, 'the same target as a sign-out from the site');
      assert.equal((await alice.jar.fetch(`${serve.siteOrigin}/private/`)).status, 200, 'still signed in to the site');
    }
    const form = parseForm(await (await alice.jar.fetch(`${serve.siteOrigin}/oauth2/sign_out`, { headers: { 'sec-fetch-site': 'cross-site' } })).text(), `${serve.siteOrigin}/oauth2/sign_out`);
    const pressed = await alice.jar.fetch(form.action, { method: 'POST', headers: { 'sec-fetch-site': 'same-origin', origin: serve.siteOrigin }, body: new URLSearchParams() });
    assert.equal(pressed.status, 302);
    assert.ok(pressed.headers.get('location')!.startsWith(`${serve.idOrigin}/api/oidc/end-session?`), pressed.headers.get('location')!);
    assert.equal((await alice.jar.fetch(`${serve.siteOrigin}/private/`)).status, 302, 'the site cookie is gone');
  });

  it('signs out from the site at /oauth2/sign_out: the provider confirms, both sessions end, and the browser comes back to the site', async () => {
    const start = await alice.jar.fetch(`${serve.siteOrigin}/oauth2/sign_out`);
    assert.equal(start.status, 302);
    const endSession = new URL(start.headers.get('location')!);
    assert.equal(`${endSession.origin}${endSession.pathname}`, `${serve.idOrigin}/api/oidc/end-session`);
    assert.equal((await alice.jar.fetch(`${serve.siteOrigin}/private/`)).status, 302, 'the site cookie is gone at once');

    const confirm = await alice.jar.follow(endSession.href);
    assert.equal(confirm.response.status, 200);
    const form = parseForm(await confirm.response.text(), confirm.url);
    const done = await alice.jar.fetch(form.action, { method: 'POST', headers: { origin: serve.idOrigin, 'sec-fetch-site': 'same-origin' }, body: new URLSearchParams({ ...form.fields, logout: 'yes' }) });
    const landing = await alice.jar.follow(new URL(done.headers.get('location')!, form.action).href);
    assert.equal(landing.url, `${serve.siteOrigin}/`);
    const again = await visit(alice, '/private/');
    assert.ok(again.hops.at(-1)!.location!.startsWith(`${serve.idOrigin}/login?next=`), 'the provider no longer knows the browser');
  });
});

describe('latchkey serve: shutdown', () => {
  it('finishes a request in flight before closing, and takes no new ones', async () => {
    const serve = await startServe();
    const { writeFileSync } = await import('node:fs');
    const bytes = 8 * 1024 * 1024; // streamed (larger than the in-memory cache limit)
    writeFileSync(`${serve.siteDir}/big.bin`, Buffer.alloc(bytes, 7));
    const { port } = new URL(serve.siteOrigin);
    const received = await new Promise<{ length: number; closedBeforeEnd: boolean }>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path: '/big.bin' }, (res) => {
        res.pause();
        let closed = false;
        const closing = serve.close().then(() => { closed = true; });
        setTimeout(() => {
          let length = 0;
          const closedBeforeEnd = closed;
          res.on('data', (chunk: Buffer) => { length += chunk.length; });
          res.on('end', () => void closing.then(() => resolve({ length, closedBeforeEnd }), reject));
          res.resume();
        }, 200);
      }).on('error', reject).end();
    });
    assert.equal(received.closedBeforeEnd, false, 'close waited for the response');
    assert.equal(received.length, bytes);
    await assert.rejects(fetch(`${serve.siteOrigin}/`), 'no new connections after close');
  });
});

describe('latchkey serve with METRICS_ADDRESS', () => {
  it('answers /metrics on that address, as latchkey id does', async () => {
    const serve = await startServe({ env: { METRICS_ADDRESS: '127.0.0.1:0' } });
    try {
      assert.ok(serve.id.metricsUrl, 'the metrics listener was started');
      const response = await fetch(serve.id.metricsUrl);
      assert.equal(response.status, 200);
      assert.match(await response.text(), /^# (HELP|TYPE) latchkey_/m);
    } finally {
      await serve.close();
    }
  });
});
