// Disabling or deleting a user in the admin console, resetting their passkeys or removing one signs
// them out everywhere by back-channel logout. An app whose logout URI this server cannot reach was
// not told, and a session it holds (a proxy's cookie) goes on: the console said "The user was
// deleted." after promising "They are signed out everywhere", and threw the report away. Found in a
// walkthrough (an app at https://agents.example:24443/…, a name the id host did not resolve).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openLink, signedInUser, signInToApp, registerAppsToTell, type LogoutReceiver, type SignedInBrowser } from '../helpers/account-fixture.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

describe('the admin console after a sign-out that an app did not hear', () => {
  let id: IdServer;
  let admin: SignedInBrowser;
  let adminId: string;
  let unreachable: string;
  let receiver: LogoutReceiver;

  /** Posts a confirmation form as its page would, and follows the redirect. */
  const confirm = async (path: string) => {
    await admin.page(path);
    const response = await admin.form(path, { confirm: 'yes' });
    assert.equal(response.status, 303, `expected a redirect, got ${response.status}`);
    const location = response.headers.get('location')!;
    return { location, ...await admin.page(location) };
  };
  /** A user signed in to the site behind the unreachable address (and, with `told`, to an app that hears the logout). */
  const userOfTheSite = async (username: string, options: { passkeys?: string[]; told?: boolean } = {}) => {
    const { user, browser } = await signedInUser(id, { username, passkeys: options.passkeys });
    await signInToApp(id, browser, 'site');
    if (options.told) await signInToApp(id, browser, 'wiki');
    return user;
  };

  before(async () => {
    id = await startIdServer();
    ({ unreachable, receiver } = await registerAppsToTell(id));
    const alice = await signedInUser(id, { username: 'alice', isAdmin: true });
    admin = alice.browser;
    adminId = alice.user.id;
  });
  after(async () => {
    await receiver.close();
    await id?.close();
  });

  const assertNamesTheSite = (html: string, username: string) => {
    assert.match(html, new RegExp(`${username} is still signed in to this app: it could not be told of the sign-out\\.`));
    assert.ok(html.includes(`<strong>Agents &lt;site&gt;</strong> (site) at <code>${unreachable}</code>: nothing accepts connections at that address (ECONNREFUSED).`), html);
    assert.match(html, /They stay signed in there until that app's own session ends: .*--cookie-expire \(168h by default\)/);
    assert.match(html, /new --cookie-secret/);
    assert.match(html, /its back-channel logout URI must be reachable from this server/);
    assert.doesNotMatch(html, /Family wiki/, 'an app that was told is not named');
    assert.doesNotMatch(html, /signed out everywhere/);
  };

  it('names the app that was not told after a user is deleted, with its address and the cause, and what to do', async () => {
    const user = await userOfTheSite('leaver', { told: true });
    const told = receiver.tokens.length;
    const page = await confirm(`/admin/users/${user.id}/delete`);
    assert.match(page.location, /^\/admin\/users\?notice=deleted&untold=[\w-]+$/);
    assert.match(page.html, /The user was deleted\./);
    assertNamesTheSite(page.html, 'leaver');
    assert.equal(receiver.tokens.length, told + 1, 'the app that could be told was told');
    assertNamesTheSite((await admin.page(page.location)).html, 'leaver');
  });

  it('names it after a user is disabled, and no longer says they were signed out everywhere', async () => {
    const user = await userOfTheSite('paused');
    const page = await confirm(`/admin/users/${user.id}/disable`);
    assert.match(page.location, new RegExp(`^/admin/users/${user.id}\\?notice=disabled&untold=[\\w-]+$`));
    assert.match(page.html, /The user is disabled and was signed out here\./);
    assertNamesTheSite(page.html, 'paused');
  });

  it('names it after their passkeys are reset, on the page that makes their new link', async () => {
    const user = await userOfTheSite('phoneless');
    const page = await confirm(`/admin/users/${user.id}/reset-passkeys`);
    assert.match(page.location, new RegExp(`^/admin/users/${user.id}/link\\?reset=1&untold=[\\w-]+$`));
    assert.match(page.html, /phoneless&#39;s passkeys were removed\./);
    assertNamesTheSite(page.html, 'phoneless');
  });

  it('names it after one passkey is removed', async () => {
    const user = await userOfTheSite('careless', { passkeys: ['Phone', 'Laptop'] });
    const [phone] = (await id.services.webauthn.listPasskeys(user.id)).filter((p) => p.name === 'Phone');
    const page = await confirm(`/admin/users/${user.id}/passkeys/${encodeURIComponent(phone.id)}/remove`);
    assert.match(page.html, /The passkey was removed and the user was signed out here\./);
    assertNamesTheSite(page.html, 'careless');
  });

  it('names an app that has no back-channel logout URI after a user is deleted, with the URI to set', async () => {
    const { user, browser } = await signedInUser(id, { username: 'unheard' });
    await signInToApp(id, browser, 'bare');
    await signInToApp(id, browser, 'wiki');
    const page = await confirm(`/admin/users/${user.id}/delete`);
    assert.match(page.location, /^\/admin\/users\?notice=deleted&untold=[\w-]+$/);
    assert.match(page.html, /unheard is still signed in to this app: it could not be told of the sign-out\./);
    assert.ok(page.html.includes('<strong>Photos &lt;bare&gt;</strong> (<a href="/admin/clients/bare">bare</a>): it has no back-channel logout URI, so it cannot be told.'), page.html);
    assert.ok(page.html.includes('Set it to <code>https://photos.example/oauth2/backchannel-logout</code>.'), page.html);
    assert.match(page.html, /set one under <a href="\/admin\/clients">Apps<\/a>: for latchkey proxy, <code>https:\/\/SITE\/oauth2\/backchannel-logout<\/code>/);
    assert.doesNotMatch(page.html, /must be reachable from this server/, 'no address was tried');
    assert.doesNotMatch(page.html, /Family wiki/);
  });

  it('does not name an app without a back-channel logout URI that the user never signed in to', async () => {
    const { user, browser } = await signedInUser(id, { username: 'wikionly' });
    await signInToApp(id, browser, 'wiki');
    const page = await confirm(`/admin/users/${user.id}/delete`);
    assert.equal(page.location, '/admin/users?notice=deleted');
    assert.doesNotMatch(page.html, /Photos|could not be told/);
  });

  it('keeps its notice as it was when every app was told', async () => {
    const { user, browser } = await signedInUser(id, { username: 'heard' });
    await signInToApp(id, browser, 'wiki');
    const page = await confirm(`/admin/users/${user.id}/disable`);
    assert.equal(page.location, `/admin/users/${user.id}?notice=disabled`);
    assert.match(page.html, /The user is disabled and was signed out everywhere\./);
    assert.doesNotMatch(page.html, /still signed in|could not be told/);
  });

  it('promises on its confirmation pages only what it can keep', async () => {
    const user = await userOfTheSite('asked');
    for (const action of ['disable', 'delete', 'reset-passkeys']) {
      const { html } = await admin.page(`/admin/users/${user.id}/${action}`);
      assert.doesNotMatch(html, /signed out everywhere|sign them out everywhere/, action);
      assert.match(html, /every app (they used )?that can be told/, action);
    }
  });

  it('shows only what it parked itself: a made-up or foreign token names no app', async () => {
    const made = await admin.page('/admin/users?notice=deleted&untold=%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    assert.doesNotMatch(made.html, /<script>alert/);
    assert.match(made.html, /Some apps could not be told of this sign-out/);
    assert.doesNotMatch(made.html, /<strong>/);

    // A token parked for alice opens for nobody else, and a token of another kind opens nothing.
    const user = await userOfTheSite('elsewhere');
    await admin.page(`/admin/users/${user.id}/delete`);
    const location = (await admin.form(`/admin/users/${user.id}/delete`, { confirm: 'yes' })).headers.get('location')!;
    const { user: bob } = await signedInUser(id, { username: 'bob', isAdmin: true });
    const otherAdmin = await openLink(id, bob.id);
    const seenByBob = await otherAdmin.page(location);
    assert.doesNotMatch(seenByBob.html, /Agents/);
    assert.match(seenByBob.html, /Some apps could not be told of this sign-out/);
    const token = new URL(location, id.origin).searchParams.get('untold')!;
    const asSecret = await admin.page(`/admin/users/${adminId}/link?reveal=${token}`);
    assert.match(asSecret.html, /That link was shown once/);
    assert.match((await admin.page(location)).html, /<strong>Agents &lt;site&gt;<\/strong>/, 'and alice still reads hers');
  });
});
