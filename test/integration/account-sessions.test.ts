// /account/sessions over HTTP: a user sees where they are signed in and which apps they use,
// ends one session, or signs out everywhere (other sessions end; every app hears back-channel logout).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APP_REDIRECT_URI, crossSitePost, openLink, signedInUser, signInToApp, startLogoutReceiver } from '../helpers/account-fixture.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

describe('account pages: sessions and apps', () => {
  let id: IdServer;
  let receiver: Awaited<ReturnType<typeof startLogoutReceiver>>;
  before(async () => {
    id = await startIdServer();
    receiver = await startLogoutReceiver();
    await id.services.clients.create({ id: 'wiki', name: 'Family wiki', redirectUris: [APP_REDIRECT_URI], unrestricted: true, backchannelLogoutUri: receiver.uri });
    await id.services.clients.create({ id: 'photos', name: 'Photos', redirectUris: [APP_REDIRECT_URI], unrestricted: true, backchannelLogoutUri: receiver.uri });
  });
  after(async () => {
    await receiver.close();
    await id.close();
  });

  it('lists the user\'s sessions with device, address and last seen, and marks this device', async () => {
    const { user, browser } = await signedInUser(id, { username: 'lister' });
    await openLink(id, user.id);
    const { html } = await browser.page('/account/sessions');
    assert.equal((html.match(/<li class="item">/g) ?? []).length, 2);
    assert.equal((html.match(/This device<\/span>/g) ?? []).length, 1);
    assert.match(html, /<dt>IP address<\/dt><dd>127\.0\.0\.1<\/dd>/);
    assert.match(html, /<dt>Last seen<\/dt><dd><time datetime=/);
  });

  it('lists the apps the user signed in to, by name', async () => {
    const { browser } = await signedInUser(id, { username: 'appuser' });
    assert.match((await browser.page('/account/sessions')).html, /not signed in to any app/);
    await signInToApp(id, browser, 'wiki');
    const { html } = await browser.page('/account/sessions');
    assert.match(html, /<h3 class="item-title">Family wiki<\/h3>/);
  });

  it('ends another session of the user after confirmation; that browser is signed out', async () => {
    const { user, browser } = await signedInUser(id, { username: 'ender' });
    const other = await openLink(id, user.id);
    // The page offers "End" only for sessions other than this browser's own.
    const [, otherSessionId] = /href="\/account\/sessions\/([^/"]+)\/end"/.exec((await browser.page('/account/sessions')).html) ?? [];
    const confirm = await browser.page(`/account/sessions/${otherSessionId}/end`);
    assert.match(confirm.html, /needs a passkey to sign in again/);
    assert.equal((await id.services.identity.sessions.listForUser(user.id)).length, 2, 'the confirmation page ends nothing');
    const response = await browser.form(`/account/sessions/${otherSessionId}/end`, {});
    assert.equal(response.status, 303);
    assert.equal((await other.page('/account')).response.status, 302, 'the other browser must sign in again');
    assert.equal((await browser.page('/account')).response.status, 200, 'this browser is still signed in');
  });

  it('answers 404 to ending another user\'s session, which stays alive', async () => {
    const victim = await signedInUser(id, { username: 'victim' });
    const { browser } = await signedInUser(id, { username: 'attacker' });
    const [target] = await id.services.identity.sessions.listForUser(victim.user.id);
    await browser.page('/account/sessions');
    assert.equal((await browser.form(`/account/sessions/${target.id}/end`, {})).status, 404);
    assert.equal((await victim.browser.page('/account')).response.status, 200);
  });

  it('refuses to end a session on a request from another site', async () => {
    const { user, browser } = await signedInUser(id, { username: 'csrfend' });
    const other = await openLink(id, user.id);
    const sessions = await id.services.identity.sessions.listForUser(user.id);
    const response = await crossSitePost(browser, id.origin, `/account/sessions/${sessions[0].id}/end`, {});
    assert.equal(response.status, 403);
    assert.equal((await other.page('/account')).response.status, 200);
    assert.equal((await id.services.identity.sessions.listForUser(user.id)).length, 2);
  });

  const grantsOf = async (userId: string) => (await id.services.database.db.selectFrom('oidc_payloads').select(['id', 'payload']).where('account_id', '=', userId).where('model', '=', 'Grant').execute())
    .map((row) => ({ id: row.id, clientId: (JSON.parse(row.payload) as { clientId: string }).clientId }));
  const audienceOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { aud: string }).aud;

  it('signs out of one app: it is told, its grant and codes end, the other app and every session here stay', async () => {
    const { user, browser } = await signedInUser(id, { username: 'oneapp' });
    const phone = await openLink(id, user.id);
    await signInToApp(id, browser, 'wiki');
    await signInToApp(id, browser, 'photos');
    const wikiGrants = (await grantsOf(user.id)).filter((g) => g.clientId === 'wiki').map((g) => g.id);
    assert.equal(wikiGrants.length, 1);
    const { html } = await browser.page('/account/sessions');
    assert.ok(html.includes('href="/account/apps/wiki/sign-out"'), 'each app has its Sign out link');
    const confirm = await browser.page('/account/apps/wiki/sign-out');
    assert.match(confirm.html, /Sign out of Family wiki\?/);
    assert.equal((await grantsOf(user.id)).length, 2, 'the confirmation page ends nothing');

    receiver.tokens.length = 0;
    const response = await browser.form('/account/apps/wiki/sign-out', {});
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/account/sessions?done=app-signed-out');
    assert.deepEqual(receiver.tokens.map(audienceOf), ['wiki'], 'only that app received a logout token');
    assert.deepEqual((await grantsOf(user.id)).map((g) => g.clientId), ['photos']);
    const leftovers = await id.services.database.db.selectFrom('oidc_payloads').select('id').where('grant_id', 'in', wikiGrants).execute();
    assert.equal(leftovers.length, 0, "the app's codes and tokens are gone with its grant");
    const after = (await browser.page('/account/sessions')).html;
    assert.doesNotMatch(after, /<h3 class="item-title">Family wiki<\/h3>/);
    assert.match(after, /<h3 class="item-title">Photos<\/h3>/);
    assert.equal((await phone.page('/account')).response.status, 200, 'other sessions here stay');
    assert.equal((await browser.page('/account')).response.status, 200, 'this one too');
    await signInToApp(id, browser, 'wiki');
    assert.equal((await grantsOf(user.id)).filter((g) => g.clientId === 'wiki').length, 1, 'signing in to the app again starts afresh');
  });

  it("answers 404 for an app the user is not signed in to, and refuses a sign-out from another site", async () => {
    const { user, browser } = await signedInUser(id, { username: 'appcsrf' });
    await browser.page('/account/sessions');
    assert.equal((await browser.form('/account/apps/wiki/sign-out', {})).status, 404);
    await signInToApp(id, browser, 'wiki');
    const response = await crossSitePost(browser, id.origin, '/account/apps/wiki/sign-out', {});
    assert.equal(response.status, 403);
    assert.equal((await grantsOf(user.id)).length, 1, 'the grant is still there');
  });

  it('signs out everywhere: other sessions end, this one stays, and the apps are told by back-channel logout', async () => {
    const { user, browser } = await signedInUser(id, { username: 'everywhere' });
    const phone = await openLink(id, user.id);
    await signInToApp(id, phone, 'wiki');
    assert.equal((await id.services.database.db.selectFrom('oidc_payloads').select('id').where('account_id', '=', user.id).where('model', '=', 'Grant').execute()).length, 1);
    receiver.tokens.length = 0;
    const confirm = await browser.page('/account/sessions/sign-out-everywhere');
    assert.match(confirm.html, /Your other session ends/);
    const response = await browser.form('/account/sessions/sign-out-everywhere', {});
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/account/sessions?done=everywhere');
    assert.equal((await phone.page('/account')).response.status, 302, 'the phone is signed out');
    assert.equal((await browser.page('/account')).response.status, 200, 'this browser stays signed in');
    assert.equal(receiver.tokens.length, 1, 'the app received a logout token');
    const payload = JSON.parse(Buffer.from(receiver.tokens[0].split('.')[1], 'base64url').toString()) as { sub: string; aud: string };
    assert.deepEqual([payload.sub, payload.aud], [user.id, 'wiki']);
    assert.equal((await id.services.database.db.selectFrom('oidc_payloads').select('id').where('account_id', '=', user.id).execute()).length, 0, 'grants and tokens are gone');
    assert.match((await browser.page('/account/sessions')).html, /not signed in to any app/);
  });
});
