// The admin console's settings form: the application name and session duration an admin saves
// replace APP_NAME and SESSION_DURATION for every page and every new sign-in.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { idBrowser } from '../helpers/id-browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

type Browser = ReturnType<typeof idBrowser>;

describe('admin settings over HTTP', () => {
  let id: IdServer;
  let admin: Browser;
  let adminId: string;

  /** Signs in by one-time link; returns the browser and the session cookie's Set-Cookie line. */
  const signInByLink = async (userId: string) => {
    const { token } = await id.services.identity.links.issue('signin', userId, 600);
    const browser = idBrowser(id.origin);
    const response = await browser.useOneTimeLink(token);
    assert.equal(response.status, 303);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('latchkey_session=')) ?? '';
    return { browser, cookie };
  };
  const save = async (browser: Browser, fields: Record<string, string>) => {
    await browser.page('/admin/settings');
    return browser.form('/admin/settings', fields);
  };
  const fieldError = (html: string, name: string) => new RegExp(`id="f-${name}-error">([^<]+)<`).exec(html)?.[1] ?? null;

  before(async () => {
    id = await startIdServer({ APP_NAME: 'Family Login', SESSION_DURATION: '720h' });
    adminId = (await id.services.identity.users.create({ username: 'alice', isAdmin: true })).id;
    admin = (await signInByLink(adminId)).browser;
  });
  after(() => id?.close());

  it('shows the environment values as the defaults before anything is saved', async () => {
    const { html } = await admin.page('/admin/settings');
    assert.match(html, /name="appName" type="text" value="Family Login"/);
    assert.match(html, /name="sessionDuration" type="text" value="720h"/);
    assert.match(html, /Changes apply to new sign-ins, here and in apps \(other instances within 30 seconds\)\. A shorter duration also ends apps. sign-ins older than it/);
    assert.doesNotMatch(html, /provider sessions change after a restart/);
  });

  it('saves a new application name, says so, and the sign-in page shows it', async () => {
    const response = await save(admin, { appName: '  Smith Family  ', sessionDuration: '720h' });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/admin/settings?notice=saved');
    assert.match((await admin.page('/admin/settings?notice=saved')).html, /Settings saved\./);
    const signInPage = await (await fetch(new URL('/login', id.origin))).text();
    assert.match(signInPage, /<title>[^<]*Smith Family<\/title>/);
    assert.doesNotMatch(signInPage, /Family Login/);
    const errorPage = await (await fetch(new URL('/no/such/page', id.origin), { headers: { accept: 'text/html' } })).text();
    assert.match(errorPage, /<title>[^<]*Smith Family<\/title>/);
    const [entry] = await id.services.identity.audit.list({ event: 'settings_updated' });
    assert.equal(entry.userId, adminId);
    assert.deepEqual(entry.details.changed, { appName: { from: 'Family Login', to: 'Smith Family' } });
  });

  it('gives the next web session the saved duration, in the cookie and in the database', async () => {
    assert.equal((await save(admin, { appName: 'Smith Family', sessionDuration: '2h' })).status, 303);
    const bob = await id.services.identity.users.create({ username: 'bob' });
    const { cookie } = await signInByLink(bob.id);
    assert.match(cookie, /Max-Age=7200(;|$)/);
    const [session] = await id.services.identity.sessions.listForUser(bob.id);
    assert.equal(session.expiresAt - session.createdAt, 7_200_000);
  });

  it('refuses invalid values with a message next to each field and changes nothing', async () => {
    const before = await id.services.identity.settings.get();
    const response = await save(admin, { appName: 'x'.repeat(51), sessionDuration: '1m' });
    assert.equal(response.status, 400);
    const html = await response.text();
    assert.match(fieldError(html, 'appName') ?? '', /1–50 characters/);
    assert.match(fieldError(html, 'sessionDuration') ?? '', /between 5m and 8760h/);
    assert.match(html, /value="x{51}"/, 'keeps what was typed');
    for (const bad of [{ appName: '', sessionDuration: '24h' }, { appName: 'Tab\there', sessionDuration: '24h' }, { appName: 'Fine', sessionDuration: 'forever' }, { appName: 'Fine', sessionDuration: '8761h' }])
      assert.equal((await save(admin, bad)).status, 400, JSON.stringify(bad));
    assert.deepEqual(await id.services.identity.settings.get(), before);
  });

  it('answers 403 to a signed-in non-admin who reads or posts the settings', async () => {
    const carol = await id.services.identity.users.create({ username: 'carol' });
    const { browser } = await signInByLink(carol.id);
    assert.equal((await browser.page('/admin/settings')).response.status, 403);
    const response = await browser.form('/admin/settings', { appName: 'Taken Over', sessionDuration: '8760h' });
    assert.equal(response.status, 403);
    assert.equal((await id.services.identity.settings.get()).appName, 'Smith Family');
  });
});
