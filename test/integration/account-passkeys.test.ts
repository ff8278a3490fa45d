// /account over HTTP: a user manages their own passkeys and profile, and nobody else's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { addPasskey } from '../../src/webauthn/passkey-store.ts';
import { codesIn, crossSitePost, signedInUser } from '../helpers/account-fixture.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

describe('account pages: passkeys and profile', () => {
  let id: IdServer;
  before(async () => { id = await startIdServer(); });
  after(() => id.close());
  const passkeysOf = (userId: string) => id.services.webauthn.listPasskeys(userId);

  it('lists each passkey with its name, when it was added and last used, and its backup state', async () => {
    const { browser } = await signedInUser(id, { username: 'lister', passkeys: ['Work laptop', 'Phone'] });
    const { html } = await browser.page('/account');
    assert.match(html, /<h2 class="item-title">Work laptop<\/h2>/);
    assert.match(html, /<h2 class="item-title">Phone<\/h2>/);
    assert.match(html, /<dt>Added<\/dt><dd><time datetime="\d{4}-/);
    assert.match(html, /<dt>Last used<\/dt><dd>never<\/dd>/);
    assert.match(html, /<dt>Backup<\/dt><dd><span class="badge ok">Synced<\/span>/);
    assert.doesNotMatch(html, /only one passkey/);
  });

  it('warns a user with a single passkey that losing the device locks them out', async () => {
    const { browser } = await signedInUser(id, { username: 'single' });
    assert.match((await browser.page('/account')).html, /only one passkey\. If you lose that device you are locked out/);
  });

  it('renames one of the user\'s own passkeys', async () => {
    const { user, browser } = await signedInUser(id, { username: 'renamer' });
    const [passkey] = await passkeysOf(user.id);
    await browser.page('/account');
    const response = await browser.form('/account/passkeys/rename', { id: passkey.id, name: '  Old phone ' });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/account?done=renamed');
    assert.equal((await passkeysOf(user.id))[0].name, 'Old phone');
  });

  it('shows a refused name next to its field and keeps the old name', async () => {
    const { user, browser } = await signedInUser(id, { username: 'badname', passkeys: ['Tablet'] });
    const [passkey] = await passkeysOf(user.id);
    await browser.page('/account');
    const response = await browser.form('/account/passkeys/rename', { id: passkey.id, name: 'x'.repeat(65) });
    assert.equal(response.status, 400);
    const html = await response.text();
    assert.match(html, /<details open>/);
    assert.match(html, /aria-invalid="true" aria-describedby="rename-0-error"/);
    assert.match(html, /<p class="field-error" id="rename-0-error">A passkey name needs 1 to 64 characters\.<\/p>/);
    assert.equal((await passkeysOf(user.id))[0].name, 'Tablet');
  });

  it('answers 404 to renaming another user\'s passkey, and leaves it unchanged', async () => {
    const victim = await signedInUser(id, { username: 'victim1', passkeys: ['Victim key'] });
    const { browser } = await signedInUser(id, { username: 'attacker1' });
    const [target] = await passkeysOf(victim.user.id);
    await browser.page('/account');
    const response = await browser.form('/account/passkeys/rename', { id: target.id, name: 'pwned' });
    assert.equal(response.status, 404);
    assert.equal((await passkeysOf(victim.user.id))[0].name, 'Victim key');
  });

  it('answers 404 to deleting another user\'s passkey, and leaves it in place', async () => {
    const victim = await signedInUser(id, { username: 'victim2', passkeys: ['A', 'B'] });
    const { browser } = await signedInUser(id, { username: 'attacker2', passkeys: ['C', 'D'] });
    const [target] = await passkeysOf(victim.user.id);
    assert.equal((await browser.page(`/account/passkeys/delete?id=${encodeURIComponent(target.id)}`)).response.status, 404);
    const response = await browser.form('/account/passkeys/delete', { id: target.id });
    assert.equal(response.status, 404);
    assert.deepEqual((await passkeysOf(victim.user.id)).map((p) => p.name), ['A', 'B']);
  });

  it('asks for confirmation before deleting, then deletes one of two passkeys', async () => {
    const { user, browser } = await signedInUser(id, { username: 'deleter', passkeys: ['Keep me', 'Delete me'] });
    const doomed = (await passkeysOf(user.id)).find((p) => p.name === 'Delete me')!;
    const confirm = await browser.page(`/account/passkeys/delete?id=${encodeURIComponent(doomed.id)}`);
    assert.equal(confirm.response.status, 200);
    assert.match(confirm.html, /Delete the passkey “Delete me”\?/);
    assert.match(confirm.html, /You will no longer be able to sign in with it/);
    // deleting a passkey ends no session: for a lost device the page points to where that is done
    assert.match(confirm.html, /already signed in stay signed in\. If the device was lost, or someone else may have it, also sign out everywhere under <a href="\/account\/sessions">/);
    assert.match(confirm.html, /<form method="post" action="\/account\/passkeys\/delete">/);
    assert.ok(confirm.html.includes(`<input type="hidden" name="id" value="${doomed.id}">`), 'the form names the passkey');
    assert.equal((await passkeysOf(user.id)).length, 2, 'showing the confirmation deletes nothing');
    const response = await browser.form('/account/passkeys/delete', { id: doomed.id });
    assert.equal(response.status, 303);
    assert.deepEqual((await passkeysOf(user.id)).map((p) => p.name), ['Keep me']);
  });

  it('refuses to delete the only passkey of a user without recovery codes, and says why', async () => {
    const { user, browser } = await signedInUser(id, { username: 'onlyone' });
    const [only] = await passkeysOf(user.id);
    const confirm = await browser.page(`/account/passkeys/delete?id=${encodeURIComponent(only.id)}`);
    assert.match(confirm.html, /This is your only passkey and you have no unused recovery codes/);
    assert.doesNotMatch(confirm.html, /action="\/account\/passkeys\/delete"/, 'no delete button is offered');
    const response = await browser.form('/account/passkeys/delete', { id: only.id });
    assert.equal(response.status, 409);
    assert.match(await response.text(), /would lock you out/);
    assert.equal((await passkeysOf(user.id)).length, 1);
  });

  it('lets a user delete their only passkey once they hold unused recovery codes, and says how to get back in', async () => {
    const { user, browser } = await signedInUser(id, { username: 'hascodes' });
    await browser.page('/account/recovery-codes');
    assert.equal(codesIn(await (await browser.form('/account/recovery-codes', {})).text()).length, 10);
    const [only] = await passkeysOf(user.id);
    const confirm = await browser.page(`/account/passkeys/delete?id=${encodeURIComponent(only.id)}`);
    assert.match(confirm.html, /This is your only passkey\. Afterwards you can sign in only with one of your 10 recovery codes/);
    assert.equal((await browser.form('/account/passkeys/delete', { id: only.id })).status, 303);
    assert.equal((await passkeysOf(user.id)).length, 0);
  });

  it('always refuses the last admin\'s last passkey, even with recovery codes', async () => {
    const { user, browser } = await signedInUser(id, { username: 'theadmin', isAdmin: true });
    await id.services.identity.recoveryCodes.generate(user.id);
    const [only] = await passkeysOf(user.id);
    const confirm = await browser.page(`/account/passkeys/delete?id=${encodeURIComponent(only.id)}`);
    assert.match(confirm.html, /only passkey of the only admin/);
    const response = await browser.form('/account/passkeys/delete', { id: only.id });
    assert.equal(response.status, 409);
    assert.equal((await passkeysOf(user.id)).length, 1);
  });

  it('renames and deletes a passkey whose credential id is far longer than a path segment may be', async () => {
    const { user, browser } = await signedInUser(id, { username: 'longid', passkeys: ['Short'] });
    const longId = randomBytes(600).toString('base64url');
    await addPasskey(id.services.database.db, { id: longId, userId: user.id, publicKey: 'AA', signCount: 0, transports: ['usb'], name: 'Security key',
      aaguid: '', backupEligible: false, backupState: false, createdAtMs: Date.now() });
    await browser.page('/account');
    assert.equal((await browser.form('/account/passkeys/rename', { id: longId, name: 'Big key' })).status, 303);
    assert.equal((await browser.page(`/account/passkeys/delete?id=${longId}`)).response.status, 200);
    assert.equal((await browser.form('/account/passkeys/delete', { id: longId })).status, 303);
    assert.deepEqual((await passkeysOf(user.id)).map((p) => p.name), ['Short']);
  });

  it('refuses a rename posted from another site, and changes nothing', async () => {
    const { user, browser } = await signedInUser(id, { username: 'csrfrename', passkeys: ['Original'] });
    const [passkey] = await passkeysOf(user.id);
    const response = await crossSitePost(browser, id.origin, '/account/passkeys/rename', { id: passkey.id, name: 'Changed' });
    assert.equal(response.status, 403);
    assert.equal((await passkeysOf(user.id))[0].name, 'Original');
  });

  it('refuses a delete without the CSRF token, even from the same origin', async () => {
    const { user, browser } = await signedInUser(id, { username: 'csrfdelete', passkeys: ['A', 'B'] });
    const [passkey] = await passkeysOf(user.id);
    const response = await browser.jar.fetch(`${id.origin}/account/passkeys/delete`, {
      method: 'POST', headers: { origin: id.origin, 'sec-fetch-site': 'same-origin' }, body: new URLSearchParams({ id: passkey.id }),
    });
    assert.equal(response.status, 403);
    assert.equal((await passkeysOf(user.id)).length, 2);
  });

  it('saves the user\'s names and email, and marks a changed email unconfirmed', async () => {
    const { user, browser } = await signedInUser(id, { username: 'profiler', email: 'old@example.com' });
    await id.services.identity.users.update(user.id, { emailVerified: true });
    const form = await browser.page('/account/profile');
    assert.match(form.html, /Only an admin can change your username/);
    const response = await browser.form('/account/profile', { firstName: 'Pro', lastName: 'Filer', email: 'New@Example.com', username: 'hijacked' });
    assert.equal(response.status, 303);
    const saved = await id.services.identity.users.require(user.id);
    assert.deepEqual([saved.firstName, saved.lastName, saved.email, saved.emailVerified, saved.username], ['Pro', 'Filer', 'new@example.com', false, 'profiler']);
  });

  it('shows an invalid email next to its field and saves nothing', async () => {
    const { user, browser } = await signedInUser(id, { username: 'typo', email: 'typo@example.com' });
    await browser.page('/account/profile');
    const response = await browser.form('/account/profile', { firstName: 'Ty', lastName: '', email: 'not an address' });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /aria-describedby="email-hint email-error">\s*<p class="field-error" id="email-error">This does not look like an email address\./);
    const saved = await id.services.identity.users.require(user.id);
    assert.deepEqual([saved.firstName, saved.email], ['', 'typo@example.com']);
  });

  it('offers no way on to a site under latchkey id, which serves no one site', async () => {
    const { browser } = await signedInUser(id, { username: 'nosite' });
    for (const path of ['/account', '/account/profile', '/account/sessions', '/account/recovery-codes']) {
      const { response, html } = await browser.page(path);
      assert.equal(response.status, 200, path);
      assert.doesNotMatch(html, /Go to the site/, path);
    }
  });

  it('sends a signed-out visitor to sign in, with the page to come back to', async () => {
    const response = await fetch(`${id.origin}/account/profile`, { redirect: 'manual' });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), '/login?next=%2Faccount%2Fprofile');
  });
});
