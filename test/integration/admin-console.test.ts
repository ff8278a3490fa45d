// The admin console over HTTP, as a browser without JavaScript uses it: forms, redirects, pages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sha256Base64url } from '../../src/core/crypto.ts';
import { idBrowser } from '../helpers/id-browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

type Browser = ReturnType<typeof idBrowser>;

describe('admin console over HTTP', () => {
  let id: IdServer;
  let admin: Browser;
  let adminId: string;

  const signInByLink = async (userId: string) => {
    const { token } = await id.services.identity.links.issue('signin', userId, 600);
    const browser = idBrowser(id.origin);
    assert.equal((await browser.useOneTimeLink(token)).status, 303);
    return browser;
  };
  /** Posts a form the way the page would: it first loads the page, for its CSRF token. */
  const submit = async (page: string, action: string, fields: Record<string, string | string[]>) => {
    await admin.page(page);
    const body = new URLSearchParams({ csrf: admin.csrf });
    for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(name, v);
    return admin.jar.fetch(new URL(action, id.origin), { method: 'POST', headers: { origin: id.origin, 'sec-fetch-site': 'same-origin' }, body });
  };
  const follow = async (response: Response) => {
    assert.equal(response.status, 303, `expected a redirect, got ${response.status}: ${(await response.text()).slice(0, 500)}`);
    return admin.page(response.headers.get('location')!);
  };
  const fieldError = (html: string, name: string) => new RegExp(`id="f-${name}-error">([^<]+)<`).exec(html)?.[1] ?? null;
  const addPasskeyFor = async (userId: string) => {
    const browser = await signInByLink(userId);
    assert.equal((await browser.page('/account')).response.status, 200);
    assert.equal((await browser.registerPasskey('Phone')).response.status, 200);
    return browser;
  };

  before(async () => {
    id = await startIdServer();
    adminId = (await id.services.identity.users.create({ username: 'alice', isAdmin: true })).id;
    admin = await signInByLink(adminId);
  });
  after(() => id?.close());

  it('creates a user in a group and shows them in the list', async () => {
    await id.services.identity.groups.create({ name: 'family' });
    const { html } = await follow(await submit('/admin/users/new', '/admin/users/new', { username: 'bob', email: 'bob@example.com', firstName: 'Bob', lastName: '', groups: 'family' }));
    assert.match(html, /User created/);
    const bob = await id.services.identity.users.findByLogin('bob');
    assert.deepEqual(await id.services.identity.groups.namesForUser(bob!.id), ['family']);
    assert.match((await admin.page('/admin/users')).html, /href="\/admin\/users\/[\w-]+">bob<\/a>/);
  });

  it("says, after a user's groups change, that apps see them at the user's next sign-in; other changes are just saved", async () => {
    const bob = (await id.services.identity.users.findByLogin('bob'))!;
    await id.services.identity.groups.create({ name: 'friends' });
    const fields = { username: 'bob', email: 'bob@example.com', firstName: 'Bob', lastName: '' };
    const regrouped = await follow(await submit(`/admin/users/${bob.id}`, `/admin/users/${bob.id}`, { ...fields, groups: ['family', 'friends'] }));
    assert.match(regrouped.html, /Changes saved\. Apps they are signed in to see the new groups at their next sign-in, or sooner with the proxy&#39;s --cookie-refresh\./);
    const renamed = await follow(await submit(`/admin/users/${bob.id}`, `/admin/users/${bob.id}`, { ...fields, lastName: 'Builder', groups: ['friends', 'family'] }));
    assert.match(renamed.html, /Changes saved\./);
    assert.doesNotMatch(renamed.html, /new groups/, 'the same groups in another order are no change');
    await id.services.identity.groups.setUserGroups(bob.id, ['family']);
  });

  it('shows a taken username next to the username field, keeps what was typed, and creates nobody', async () => {
    const before = await id.services.identity.users.count();
    const response = await submit('/admin/users/new', '/admin/users/new', { username: 'BOB', email: 'other@example.com', firstName: 'Robert', lastName: '' });
    assert.equal(response.status, 409);
    const html = await response.text();
    assert.match(fieldError(html, 'username') ?? '', /already taken/);
    assert.match(html, /id="f-username"[^>]*aria-describedby="[^"]*f-username-error"[^>]*aria-invalid="true"/);
    assert.match(html, /value="Robert"/);
    assert.equal(await id.services.identity.users.count(), before);
  });

  it('escapes what users typed wherever the console shows it', async () => {
    await id.services.identity.users.create({ username: 'mallory', firstName: '<script>alert(1)</script>' });
    const { html } = await admin.page('/admin/users?q=mallory');
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(html, /<script>alert/);
  });

  it('searches users and pages through them 25 at a time', async () => {
    for (let i = 0; i < 27; i++) await id.services.identity.users.create({ username: `guest${String(i).padStart(2, '0')}` });
    const first = await admin.page('/admin/users?q=guest');
    assert.equal((first.html.match(/href="\/admin\/users\/[\w-]+">guest/g) ?? []).length, 25);
    assert.match(first.html, /href="\/admin\/users\?q=guest&amp;page=2" rel="next"/);
    const second = await admin.page('/admin/users?q=guest&page=2');
    assert.deepEqual(second.html.match(/>guest\d\d</g), ['>guest25<', '>guest26<']);
    assert.doesNotMatch(second.html, /rel="next"/);
  });

  it('shows a one-time link once, with its QR code, and cancels the previous unused link', async () => {
    const bob = (await id.services.identity.users.findByLogin('bob'))!;
    const firstPage = await follow(await submit(`/admin/users/${bob.id}/link`, `/admin/users/${bob.id}/link`, { ttlSeconds: '3600' }));
    const firstLink = new RegExp(`${id.origin}/lc/[\\w-]{43}`).exec(firstPage.html)![0];
    assert.match(firstPage.html, /<svg class="qr"[^>]*role="img"/);
    const again = await admin.page(firstPage.response.url || `/admin/users/${bob.id}/link`);
    assert.doesNotMatch(again.html, /\/lc\/[\w-]{43}/);
    const secondPage = await follow(await submit(`/admin/users/${bob.id}/link`, `/admin/users/${bob.id}/link`, { ttlSeconds: '86400' }));
    const secondLink = new RegExp(`${id.origin}/lc/[\\w-]{43}`).exec(secondPage.html)![0];
    assert.notEqual(secondLink, firstLink);
    assert.equal(await id.services.identity.links.peek(firstLink.split('/lc/')[1], 'signin'), null);
    assert.deepEqual(await id.services.identity.links.peek(secondLink.split('/lc/')[1], 'signin'), { userId: bob.id });
  });

  it('does not show a parked link again when its page is reloaded', async () => {
    const bob = (await id.services.identity.users.findByLogin('bob'))!;
    const made = await submit(`/admin/users/${bob.id}/link`, `/admin/users/${bob.id}/link`, { ttlSeconds: '3600' });
    const location = made.headers.get('location')!;
    assert.match((await admin.page(location)).html, /\/lc\/[\w-]{43}/);
    const reload = await admin.page(location);
    assert.doesNotMatch(reload.html, /\/lc\/[\w-]{43}/);
    assert.match(reload.html, /shown once/);
  });

  it('disables a user: their sessions end here and at the OIDC provider', async () => {
    const carol = await id.services.identity.users.create({ username: 'carol' });
    const carolBrowser = await signInByLink(carol.id);
    await id.services.database.db.insertInto('oidc_payloads').values({
      model: 'Session', id: 'carol-provider-session', payload: '{}', grant_id: null, user_code: null, uid: null, account_id: carol.id, expires_at: null, consumed_at: null,
    }).execute();
    const confirm = await admin.page(`/admin/users/${carol.id}/disable`);
    assert.match(confirm.html, /signed out here now, and of every app they used that can be told/);
    const unticked = await submit(`/admin/users/${carol.id}/disable`, `/admin/users/${carol.id}/disable`, {});
    assert.equal(unticked.status, 400);
    assert.equal((await id.services.identity.users.get(carol.id))!.disabled, false);
    await follow(await submit(`/admin/users/${carol.id}/disable`, `/admin/users/${carol.id}/disable`, { confirm: 'yes' }));
    assert.equal((await id.services.identity.users.get(carol.id))!.disabled, true);
    assert.equal((await carolBrowser.page('/account')).response.status, 302);
    const providerSessions = await id.services.database.db.selectFrom('oidc_payloads').select('id').where('account_id', '=', carol.id).execute();
    assert.deepEqual(providerSessions, []);
  });

  it('refuses to delete the last admin, saying why, and keeps them', async () => {
    const confirm = await admin.page(`/admin/users/${adminId}/delete`);
    assert.match(confirm.html, /only active admin and cannot be deleted/);
    assert.doesNotMatch(confirm.html, /name="confirm"/);
    const forced = await submit(`/admin/users/${adminId}`, `/admin/users/${adminId}/delete`, { confirm: 'yes' });
    assert.equal(forced.status, 409);
    assert.match(await forced.text(), /alice is the only active admin and cannot be deleted/);
    assert.ok(await id.services.identity.users.get(adminId));
  });

  it('refuses to reset the passkeys of the only admin who has any', async () => {
    await addPasskeyFor(adminId);
    const forced = await submit(`/admin/users/${adminId}`, `/admin/users/${adminId}/reset-passkeys`, { confirm: 'yes' });
    assert.equal(forced.status, 409);
    assert.match(await forced.text(), /only admin who can sign in with a passkey/);
    assert.equal(await id.services.webauthn.countPasskeys(adminId), 1);
  });

  it('resets a friend\'s passkeys, signs them out and cancels their unused link', async () => {
    const dave = await id.services.identity.users.create({ username: 'dave' });
    const daveBrowser = await addPasskeyFor(dave.id);
    const { token } = await id.services.identity.links.issue('signin', dave.id, 600);
    const { html } = await follow(await submit(`/admin/users/${dave.id}/reset-passkeys`, `/admin/users/${dave.id}/reset-passkeys`, { confirm: 'yes' }));
    assert.match(html, /passkeys were removed/);
    assert.equal(await id.services.webauthn.countPasskeys(dave.id), 0);
    assert.equal(await id.services.identity.links.peek(token, 'signin'), null);
    assert.equal((await daveBrowser.page('/account')).response.status, 302);
  });

  it("removes one of a friend's passkeys (a lost phone): the other still signs in, the phone no longer does, and they are signed out everywhere", async () => {
    const erin = await id.services.identity.users.create({ username: 'erin' });
    const phone = await addPasskeyFor(erin.id);
    const laptop = await signInByLink(erin.id);
    assert.equal((await laptop.registerPasskey('Laptop')).response.status, 200);
    const [phoneKey] = (await id.services.webauthn.listPasskeys(erin.id)).filter((p) => p.name === 'Phone');

    const detail = await admin.page(`/admin/users/${erin.id}`);
    const removeHref = `/admin/users/${erin.id}/passkeys/${phoneKey.id}/remove`;
    assert.ok(detail.html.includes(`href="${removeHref}"`), 'each passkey has its Remove link');
    const confirm = await admin.page(removeHref);
    assert.match(confirm.html, /Remove the passkey “Phone” of erin\?/);
    assert.match(confirm.html, /signed out here and of every app that can be told/);
    const unticked = await submit(removeHref, removeHref, {});
    assert.equal(unticked.status, 400);
    assert.equal(await id.services.webauthn.countPasskeys(erin.id), 2, 'nothing removed without the box ticked');

    const { html } = await follow(await submit(removeHref, removeHref, { confirm: 'yes' }));
    assert.match(html, /The passkey was removed/);
    assert.deepEqual((await id.services.webauthn.listPasskeys(erin.id)).map((p) => p.name), ['Laptop']);
    assert.equal((await phone.page('/account')).response.status, 302, "the phone's session ended");
    assert.equal((await laptop.page('/account')).response.status, 302, 'every session ended');
    assert.notEqual((await phone.signInWithPasskey()).response.status, 200, 'the phone can no longer sign in');
    assert.equal((await laptop.signInWithPasskey()).response.status, 200, 'the laptop still can');
    const audited = await id.services.database.db.selectFrom('audit_log').select(['event', 'details']).where('event', '=', 'passkey_deleted').execute();
    assert.ok(audited.some((row) => String(row.details).includes(erin.id)), 'the removal is audited with its target');
  });

  it("refuses to remove the only admin's last passkey, and answers 404 for another user's passkey", async () => {
    const [adminKey] = await id.services.webauthn.listPasskeys(adminId);
    assert.ok(adminKey, 'the admin registered one passkey above');
    const own = `/admin/users/${adminId}/passkeys/${adminKey.id}/remove`;
    assert.match((await admin.page(own)).html, /only admin who can sign in with a passkey/);
    const forced = await submit(own, own, { confirm: 'yes' });
    assert.equal(forced.status, 409);
    assert.equal(await id.services.webauthn.countPasskeys(adminId), 1);

    const frank = await id.services.identity.users.create({ username: 'frank' });
    const elsewhere = `/admin/users/${frank.id}/passkeys/${adminKey.id}/remove`;
    assert.equal((await admin.page(elsewhere)).response.status, 404);
    assert.equal((await submit(own, elsewhere, { confirm: 'yes' })).status, 404);
    assert.equal(await id.services.webauthn.countPasskeys(adminId), 1, "a passkey is only ever removed from its owner's account");
  });

  it('creates a client and shows its working secret exactly once', async () => {
    const created = await submit('/admin/clients/new', '/admin/clients/new', {
      name: 'Family site', id: 'family-site', redirectUris: 'https://agents.example.com/oauth2/callback', postLogoutRedirectUris: '', backchannelLogoutUri: '',
      access: 'groups', allowedGroups: 'family', requirePkce: 'yes',
    });
    const location = created.headers.get('location')!;
    const { html } = await follow(created);
    const secret = /id="setup-secret"[^>]*>([\w-]{43})</.exec(html)![1];
    const row = await id.services.database.db.selectFrom('oidc_clients').select('secret_hash').where('id', '=', 'family-site').executeTakeFirstOrThrow();
    assert.equal(row.secret_hash, sha256Base64url(secret));
    assert.match(html, new RegExp(`--client-secret=${secret}`));
    assert.match(html, /--oidc-issuer-url=http:\/\/localhost:\d+/);
    const reload = await admin.page(location);
    assert.doesNotMatch(reload.html, new RegExp(secret));
    assert.match(reload.html, /shown once/);
  });

  it('regenerates a client secret after confirmation: the new one is shown once and the old one stops matching', async () => {
    const before = await id.services.database.db.selectFrom('oidc_clients').select('secret_hash').where('id', '=', 'family-site').executeTakeFirstOrThrow();
    const unticked = await submit('/admin/clients/family-site/secret', '/admin/clients/family-site/secret', {});
    assert.equal(unticked.status, 400);
    const { html } = await follow(await submit('/admin/clients/family-site/secret', '/admin/clients/family-site/secret', { confirm: 'yes' }));
    const secret = /id="setup-secret"[^>]*>([\w-]{43})</.exec(html)![1];
    const after = await id.services.database.db.selectFrom('oidc_clients').select('secret_hash').where('id', '=', 'family-site').executeTakeFirstOrThrow();
    assert.notEqual(after.secret_hash, before.secret_hash);
    assert.equal(after.secret_hash, sha256Base64url(secret));
  });

  it('edits a client: opening it to everyone and adding a back-channel logout URI', async () => {
    const { html } = await follow(await submit('/admin/clients/family-site', '/admin/clients/family-site', {
      name: 'Family site', redirectUris: 'https://agents.example.com/oauth2/callback', postLogoutRedirectUris: '', access: 'everyone', requirePkce: 'yes',
      backchannelLogoutUri: 'https://agents.example.com/oauth2/backchannel-logout',
    }));
    assert.match(html, /Changes saved/);
    const client = await id.services.clients.get('family-site');
    assert.equal(client.unrestricted, true);
    assert.equal(client.backchannelLogoutUri, 'https://agents.example.com/oauth2/backchannel-logout');
    await id.services.clients.update('family-site', { unrestricted: false, allowedGroups: ['family'] });
  });

  it('names every problem of a client form next to its field, and creates nothing', async () => {
    const response = await submit('/admin/clients/new', '/admin/clients/new', { name: '', redirectUris: 'http://evil.example.com/cb\nnot a url', postLogoutRedirectUris: '', backchannelLogoutUri: '', access: 'groups' });
    assert.equal(response.status, 400);
    const html = await response.text();
    assert.match(fieldError(html, 'name') ?? '', /needs a name/);
    assert.match(fieldError(html, 'redirectUris') ?? '', /https/);
    assert.match(fieldError(html, 'allowedGroups') ?? '', /at least one group/);
    assert.equal((await id.services.clients.list()).length, 1);
  });

  it('says how many users and apps a group deletion affects, and which app nobody could enter afterwards', async () => {
    const { html } = await admin.page(`/admin/groups/${(await id.services.identity.groups.findByName('family'))!.id}/delete`);
    assert.match(html, /1 user leaves this group/);
    assert.match(html, /1 app no longer admits/);
    assert.match(html, /Family site admits only this group/);
    assert.match(html, /Apps using --allowed-group with this name stop admitting its former members\./);
    assert.doesNotMatch(html, /--protect/);
  });

  it('asks for an app for the site\'s proxy and speaks of apps on the groups page, with no word of latchkey serve', async () => {
    const overview = (await admin.page('/admin')).html;
    assert.match(overview, /<a href="\/admin\/clients\/new">Add an app<\/a> for the site's proxy/);
    assert.match(overview, /<strong>1<\/strong> apps<\/a>/);
    const groups = (await admin.page('/admin/groups')).html;
    assert.match(groups, /Groups decide who may sign in to an app/);
    assert.match(groups, /Apps see this name\./);
    assert.doesNotMatch(groups, /--protect/);
    assert.doesNotMatch((await admin.page('/admin/clients')).html, /managed by latchkey serve|The site's own app/);
  });

  it('creates an API key that works once copied, and revokes it after confirmation', async () => {
    const { html } = await follow(await submit('/admin/api-keys', '/admin/api-keys', { name: 'backup script', expiresInDays: '30' }));
    const key = /id="new-api-key"[^>]*>(lk_[\w-]+)</.exec(html)![1];
    assert.equal((await fetch(`${id.origin}/api/users`, { headers: { 'x-api-key': key } })).status, 200);
    assert.doesNotMatch(html, /refused:/, 'made by an active admin, the key is shown as working');
    const former = await id.services.identity.users.create({ username: 'former-admin' });
    await id.services.identity.apiKeys.create({ name: 'old script', createdBy: former.id });
    assert.match((await admin.page('/admin/api-keys')).html, /former-admin <strong class="warning">refused: former-admin is no longer an active admin/);
    const keyId = (await id.services.identity.apiKeys.list()).find((k) => k.name === 'backup script')!.id;
    await follow(await submit(`/admin/api-keys/${keyId}/revoke`, `/admin/api-keys/${keyId}/revoke`, { confirm: 'yes' }));
    assert.equal((await fetch(`${id.origin}/api/users`, { headers: { 'x-api-key': key } })).status, 401);
  });

  it('filters the audit log by event and user, newest first, and pages backwards without losing entries that share a millisecond', async () => {
    const bob = (await id.services.identity.users.findByLogin('bob'))!;
    // Entries 0–9 share one millisecond, so the 50-entry page boundary falls inside them.
    const base = Date.now() - 3_600_000;
    await id.services.database.db.insertInto('audit_log').values(Array.from({ length: 55 }, (_, n) => ({
      id: `test-${n}`, created_at: base + (n < 10 ? 0 : n * 1000), event: 'test_event', user_id: bob.id, client_id: null, ip: null, user_agent: null, details: JSON.stringify({ n }),
    }))).execute();
    await id.services.identity.audit.record({ event: 'test_event', details: { n: 999 } });
    const numbers = (html: string) => [...html.matchAll(/>n: (\d+)</g)].map((m) => Number(m[1]));
    const first = await admin.page('/admin/audit?event=test_event&user=bob');
    assert.equal(first.response.status, 200);
    assert.deepEqual(numbers(first.html).slice(0, 3), [54, 53, 52]);
    assert.equal(numbers(first.html).length, 50);
    const older = /href="(\/admin\/audit\?[^"]+)" rel="next"/.exec(first.html)![1].replace(/&amp;/g, '&');
    const second = await admin.page(older);
    const all = [...numbers(first.html), ...numbers(second.html)];
    assert.deepEqual([...all].sort((a, b) => a - b), Array.from({ length: 55 }, (_, n) => n));
    assert.doesNotMatch(second.html, /rel="next"/);
    const unknown = await admin.page('/admin/audit?user=nobody-here');
    assert.match(fieldError(unknown.html, 'user') ?? '', /No user has the username or email/);
  });

  it('shows the settings with the environment variable that changes each', async () => {
    const { html } = await admin.page('/admin/settings');
    assert.match(html, /<code>APP_NAME<\/code>/);
    assert.match(html, /720h \(30 days\)/);
    assert.match(html, /<code>SESSION_DURATION<\/code>/);
  });
});
