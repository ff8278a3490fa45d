// A user's own "Sign out everywhere" and "Sign out of this app" on /account/sessions send each app
// a back-channel logout. An app whose logout URI this server cannot reach (the site's proxy, with an
// address only the site resolves) is not told, and its own session (the proxy's cookie) still lets
// the user in: the page said "You were signed out everywhere else, and of every app." regardless.
// It now names that app, as the admin console does (admin-console-untold-apps.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signedInUser, signInToApp, registerAppsToTell, type LogoutReceiver, type SignedInBrowser } from '../helpers/account-fixture.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

describe('the account pages after a sign-out that an app did not hear', () => {
  let id: IdServer;
  let unreachable: string;
  let receiver: LogoutReceiver;

  before(async () => {
    id = await startIdServer();
    ({ unreachable, receiver } = await registerAppsToTell(id));
  });
  after(async () => {
    await receiver.close();
    await id?.close();
  });

  /** Posts a confirmation form as its page would, and follows the redirect. */
  const confirm = async (browser: SignedInBrowser, path: string) => {
    await browser.page(path);
    const response = await browser.form(path, {});
    assert.equal(response.status, 303, `expected a redirect, got ${response.status}`);
    const location = response.headers.get('location')!;
    return { location, ...await browser.page(location) };
  };
  const assertNamesTheSite = (html: string) => {
    assert.match(html, /You are still signed in to this app: it could not be told of the sign-out\./);
    assert.ok(html.includes('<li><strong>Agents &lt;site&gt;</strong></li>'), html);
    assert.match(html, /You stay signed in there until that app's own session ends\. To end it now, sign out on that site itself \(with its own sign-out link\)/);
    assert.ok(!html.includes(unreachable), "the app's back-channel address is the admin's business, not shown to the user");
    assert.doesNotMatch(html, /signed out everywhere|of every app\./);
  };

  it('names the app that was not told after "Sign out everywhere", and again on reload', async () => {
    const { browser } = await signedInUser(id, { username: 'everywhere' });
    await signInToApp(id, browser, 'site');
    await signInToApp(id, browser, 'wiki');
    const told = receiver.tokens.length;
    const page = await confirm(browser, '/account/sessions/sign-out-everywhere');
    assert.match(page.location, /^\/account\/sessions\?done=everywhere&untold=[\w-]+$/);
    assert.match(page.html, /Your other sessions here ended, and every app that could be told signed you out\./);
    assertNamesTheSite(page.html);
    assert.doesNotMatch(page.html, /<strong>Family wiki/, 'an app that was told is not named');
    assert.equal(receiver.tokens.length, told + 1, 'the app that could be told was told');
    assertNamesTheSite((await browser.page(page.location)).html);
  });

  it('names it after "Sign out of this app"', async () => {
    const { browser } = await signedInUser(id, { username: 'oneapp' });
    await signInToApp(id, browser, 'site');
    const page = await confirm(browser, '/account/apps/site/sign-out');
    assert.match(page.location, /^\/account\/sessions\?done=app-signed-out&untold=[\w-]+$/);
    assert.match(page.html, /could not be told to sign you out\./);
    assert.doesNotMatch(page.html, /You were signed out of that app\./);
    assertNamesTheSite(page.html);
  });

  it('names an app that has no back-channel logout URI after "Sign out everywhere"', async () => {
    const { browser } = await signedInUser(id, { username: 'unheard' });
    await signInToApp(id, browser, 'bare');
    await signInToApp(id, browser, 'wiki');
    const page = await confirm(browser, '/account/sessions/sign-out-everywhere');
    assert.match(page.location, /^\/account\/sessions\?done=everywhere&untold=[\w-]+$/);
    assert.match(page.html, /You are still signed in to this app: it could not be told of the sign-out\./);
    assert.ok(page.html.includes('<li><strong>Photos &lt;bare&gt;</strong></li>'), page.html);
    assert.match(page.html, /To end it now, sign out on that site itself/);
    assert.doesNotMatch(page.html, /<strong>Family wiki|signed out everywhere|of every app\./);
  });

  it('names the app that was not told after "Sign out here", on the sign-in page it goes to, for this browser only', async () => {
    const { browser } = await signedInUser(id, { username: 'here' });
    await signInToApp(id, browser, 'site');
    await signInToApp(id, browser, 'bare');
    await browser.page('/account');
    const out = await browser.form('/logout', {});
    assert.equal(out.status, 303);
    const location = out.headers.get('location')!;
    assert.match(location, /^\/login\?untold=[\w-]+$/);
    const page = await browser.page(location);
    assert.match(page.html, /Sign in to/);
    assert.match(page.html, /You are still signed in to these apps: they could not be told of the sign-out\./);
    assert.ok(page.html.includes('<li><strong>Agents &lt;site&gt;</strong></li>') && page.html.includes('<li><strong>Photos &lt;bare&gt;</strong></li>'), page.html);
    assert.ok(!page.html.includes(unreachable));

    const other = await signedInUser(id, { username: 'elsewhere' });
    await other.browser.form('/logout', {});
    const seenElsewhere = await other.browser.page(location);
    assert.doesNotMatch(seenElsewhere.html, /Agents|Photos/, 'the notice is sealed for the browser that signed out');
  });

  it('goes to the plain sign-in page after "Sign out here" when every app was told', async () => {
    const { browser } = await signedInUser(id, { username: 'heardhere' });
    await signInToApp(id, browser, 'wiki');
    await browser.page('/account');
    const out = await browser.form('/logout', {});
    assert.equal(out.headers.get('location'), '/login');
  });

  it('says what it said before when every app was told', async () => {
    const { browser } = await signedInUser(id, { username: 'heard' });
    await signInToApp(id, browser, 'wiki');
    const page = await confirm(browser, '/account/sessions/sign-out-everywhere');
    assert.equal(page.location, '/account/sessions?done=everywhere');
    assert.match(page.html, /You were signed out everywhere else, and of every app\./);
    assert.doesNotMatch(page.html, /still signed in to|could not be told/);
  });

  it('shows only what the user parked: a made-up or foreign token names no app', async () => {
    const { browser } = await signedInUser(id, { username: 'prober' });
    const made = await browser.page('/account/sessions?done=everywhere&untold=%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    assert.doesNotMatch(made.html, /<script>alert/);
    assert.match(made.html, /Some apps could not be told of this sign-out, and you may still be signed in there/);
    assert.doesNotMatch(made.html, /<strong>/);
    assert.doesNotMatch((await browser.page('/account/sessions?untold=x')).html, /could not be told/, 'only after a sign-out');

    const victim = await signedInUser(id, { username: 'victim' });
    await signInToApp(id, victim.browser, 'site');
    const { location } = await confirm(victim.browser, '/account/sessions/sign-out-everywhere');
    const seenByProber = await browser.page(location);
    assert.doesNotMatch(seenByProber.html, /Agents/);
    assert.match(seenByProber.html, /Some apps could not be told of this sign-out/);
    assertNamesTheSite((await victim.browser.page(location)).html);
  });

  it("shows in the admin console nothing of a token the account pages parked", async () => {
    const { user: admin, browser } = await signedInUser(id, { username: 'root', isAdmin: true });
    await signInToApp(id, browser, 'site');
    const own = await confirm(browser, '/account/sessions/sign-out-everywhere');
    const token = new URL(own.location, id.origin).searchParams.get('untold')!;
    const inConsole = await browser.page(`/admin/users/${admin.id}?notice=disabled&untold=${token}`);
    assert.doesNotMatch(inConsole.html, /<strong>Agents/);
  });
});
