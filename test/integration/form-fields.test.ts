// Browser forms that arrive with a field twice or without one: @fastify/formbody reads a repeated
// field as an array, which the handlers once took for text (a TypeError, so a 500 and an error in
// the log). Each is refused with a 400 page that names the field, and changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { codesIn, signedInUser, type SignedInBrowser } from '../helpers/account-fixture.ts';
import { idBrowser } from '../helpers/id-browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

/** A same-origin form post with the page's CSRF token, its fields in order, names repeated as given. */
function post(browser: SignedInBrowser, origin: string, path: string, fields: [string, string][]) {
  const body = new URLSearchParams([['csrf', browser.csrf], ...fields]);
  return browser.jar.fetch(new URL(path, origin), { method: 'POST', headers: { origin, 'sec-fetch-site': 'same-origin' }, body });
}

async function assertRefusedPage(response: Response, field: string, problem: RegExp) {
  assert.equal(response.status, 400);
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(response.headers.getSetCookie().filter((c) => c.startsWith('latchkey_session=')).length, 0, 'no session is started');
  const html = await response.text();
  assert.match(html, new RegExp(`the field “${field}”`));
  assert.match(html, problem);
}
const TWICE = /more than once/;
const MISSING = /without the field/;

describe('browser forms with a repeated or missing field', () => {
  let id: IdServer;
  const logged: { level: number; msg: string }[] = [];
  before(async () => {
    id = await startIdServer({ LOG_LEVEL: 'info' }, { logDestination: { write: (line) => void logged.push(JSON.parse(line) as typeof logged[number]) } });
  });
  after(async () => {
    await id.close();
    assert.deepEqual(logged.filter((l) => l.level >= 50).map((l) => l.msg), [], 'nothing was logged as an error');
  });

  it('refuses a one-time link sent twice, and the link still works afterwards', async () => {
    const user = await id.services.identity.users.create({ username: 'linked' });
    const { token } = await id.services.identity.links.issue('signin', user.id, 600);
    const browser = idBrowser(id.origin);
    await browser.page(`/lc/${token}`);
    await assertRefusedPage(await post(browser, id.origin, '/link', [['token', token], ['token', token]]), 'token', TWICE);
    await assertRefusedPage(await post(browser, id.origin, '/link', []), 'token', MISSING);
    assert.equal((await browser.page('/account')).response.status, 302, 'still signed out');
    assert.equal((await browser.useOneTimeLink(token)).status, 303, 'the link was not used up');
  });

  it('refuses a recovery sign-in with the login sent twice, and counts, uses and audits nothing', async () => {
    const { user, browser: owner } = await signedInUser(id, { username: 'recovering' });
    await owner.page('/account/recovery-codes');
    const [code] = codesIn(await (await owner.form('/account/recovery-codes', {})).text());
    const browser = idBrowser(id.origin);
    await browser.page('/login/recovery');
    const refused = await post(browser, id.origin, '/login/recovery', [['login', 'recovering'], ['login', 'recovering'], ['code', code]]);
    await assertRefusedPage(refused, 'login', TWICE);
    await assertRefusedPage(await post(browser, id.origin, '/login/recovery', [['login', 'recovering'], ['code', code], ['code', code]]), 'code', TWICE);
    assert.equal((await id.services.identity.recoveryCodes.status(user.id)).unused, 10);
    assert.deepEqual(await id.services.identity.audit.list({ event: 'recovery_code_failed' }), []);
    const used = await browser.form('/login/recovery', { login: 'recovering', code });
    assert.equal(used.status, 303, 'the code still signs in');
  });

  it('refuses a profile with a name sent twice or a field missing, and saves nothing', async () => {
    const { user, browser } = await signedInUser(id, { username: 'profiled', email: 'profiled@example.com' });
    await id.services.identity.users.update(user.id, { firstName: 'Pat', lastName: 'Smith' });
    await browser.page('/account/profile');
    const twice = await post(browser, id.origin, '/account/profile', [['firstName', 'a'], ['firstName', 'b'], ['lastName', 'X'], ['email', 'new@example.com']]);
    await assertRefusedPage(twice, 'firstName', TWICE);
    const missing = await post(browser, id.origin, '/account/profile', [['firstName', 'Pat'], ['email', 'profiled@example.com']]);
    await assertRefusedPage(missing, 'lastName', MISSING);
    const saved = await id.services.identity.users.require(user.id);
    assert.deepEqual([saved.firstName, saved.lastName, saved.email], ['Pat', 'Smith', 'profiled@example.com']);
  });

  it('refuses renaming or deleting a passkey named twice, and leaves the passkeys as they were', async () => {
    const { user, browser } = await signedInUser(id, { username: 'keyholder', passkeys: ['Laptop', 'Phone'] });
    const [first, second] = await id.services.webauthn.listPasskeys(user.id);
    await browser.page('/account');
    await assertRefusedPage(await post(browser, id.origin, '/account/passkeys/rename', [['id', first.id], ['id', second.id], ['name', 'Renamed']]), 'id', TWICE);
    await assertRefusedPage(await post(browser, id.origin, '/account/passkeys/rename', [['id', first.id], ['name', 'One'], ['name', 'Two']]), 'name', TWICE);
    await assertRefusedPage(await post(browser, id.origin, '/account/passkeys/delete', [['id', first.id], ['id', second.id]]), 'id', TWICE);
    await assertRefusedPage(await post(browser, id.origin, '/account/passkeys/delete', []), 'id', MISSING);
    const after = await id.services.webauthn.listPasskeys(user.id);
    assert.deepEqual(after.map((p) => p.name).sort(), ['Laptop', 'Phone']);
  });

  it('refuses recovery codes to download that were sent twice', async () => {
    const { browser } = await signedInUser(id, { username: 'downloader' });
    await browser.page('/account/recovery-codes');
    const codes = codesIn(await (await browser.form('/account/recovery-codes', {})).text());
    const response = await post(browser, id.origin, '/account/recovery-codes/download', [['codes', codes.join(' ')], ['codes', codes.join(' ')]]);
    await assertRefusedPage(response, 'codes', TWICE);
  });

  it('refuses an admin setting sent twice instead of saving the first value', async () => {
    const { browser: admin } = await signedInUser(id, { username: 'settler', isAdmin: true });
    const before = await id.services.identity.settings.get();
    await admin.page('/admin/settings');
    const response = await post(admin, id.origin, '/admin/settings', [['appName', 'Taken'], ['sessionDuration', '5m'], ['sessionDuration', '8760h']]);
    await assertRefusedPage(response, 'sessionDuration', TWICE);
    assert.deepEqual(await id.services.identity.settings.get(), before);
    assert.deepEqual(await id.services.identity.audit.list({ event: 'settings_updated' }), []);
  });

  it('refuses an admin user form with a name missing instead of erasing it', async () => {
    const { browser: admin } = await signedInUser(id, { username: 'editor', isAdmin: true });
    const target = await id.services.identity.users.create({ username: 'target', email: 'target@example.com', firstName: 'Tara', lastName: 'Get' });
    await admin.page(`/admin/users/${target.id}`);
    const response = await post(admin, id.origin, `/admin/users/${target.id}`, [['username', 'target'], ['email', 'target@example.com'], ['firstName', 'Tara']]);
    await assertRefusedPage(response, 'lastName', MISSING);
    const saved = await id.services.identity.users.require(target.id);
    assert.deepEqual([saved.firstName, saved.lastName], ['Tara', 'Get']);
  });

  it('refuses a search or filter of the admin console sent twice (GET forms)', async () => {
    const { browser: admin } = await signedInUser(id, { username: 'searcher', isAdmin: true });
    await assertRefusedPage(await admin.jar.fetch(new URL('/admin/users?q=a&q=b', id.origin)), 'q', TWICE);
    await assertRefusedPage(await admin.jar.fetch(new URL('/admin/audit?event=signin&event=signout', id.origin)), 'event', TWICE);
    await assertRefusedPage(await admin.jar.fetch(new URL('/admin/audit?user=a&user=b', id.origin)), 'user', TWICE);
    assert.equal((await admin.jar.fetch(new URL('/admin/users?q=searcher', id.origin))).status, 200);
  });
});

describe('the first-run setup form with a repeated or missing field', () => {
  let id: IdServer;
  before(async () => { id = await startIdServer(); });
  after(() => id.close());

  it('refuses the setup link or a field of its form sent twice, creates nobody, and the link still works', async () => {
    const { token } = await id.services.identity.setup.issueLink();
    const browser = idBrowser(id.origin);
    await assertRefusedPage(await browser.jar.fetch(new URL(`/setup?token=${token}&token=${token}`, id.origin)), 'token', TWICE);
    await browser.page(`/setup?token=${token}`);
    const fields: [string, string][] = [['token', token], ['username', 'alice'], ['email', 'alice@example.com'], ['firstName', 'Alice'], ['lastName', '']];
    await assertRefusedPage(await post(browser, id.origin, '/setup', [...fields, ['username', 'mallory']]), 'username', TWICE);
    await assertRefusedPage(await post(browser, id.origin, '/setup', fields.filter(([name]) => name !== 'email')), 'email', MISSING);
    assert.equal(await id.services.identity.users.count(), 0);
    assert.equal((await post(browser, id.origin, '/setup', fields)).status, 303);
  });
});
