// `latchkey serve` with the committed demo site in Debian's Chromium with a virtual authenticator:
// the issue's first end-to-end flow (setup link → admin passkey → /private/ → sign out → refused →
// passkey → /private/ again), with the site and the identity provider on their two localhost origins.
// Then another website (127.0.0.1, another site than localhost) tries to sign the admin out.
import assert from 'node:assert/strict';
import { startOtherSite, type OtherSite } from '../helpers/other-site.ts';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createFirstAdminInBrowser, launchBrowser, openPasskeyTab, passkeysIn, type PasskeyTab } from '../helpers/browser.ts';
import { startServe, type ServeServer } from '../helpers/serve-server.ts';

const DEMO_SITE = fileURLToPath(new URL('../../demo/public', import.meta.url));

describe('latchkey serve with the demo site in Chromium', () => {
  let serve: ServeServer;
  let browser: Browser;
  let admin: PasskeyTab;
  let otherSite: OtherSite;

  before(async () => {
    otherSite = await startOtherSite();
    [serve, browser] = await Promise.all([startServe({ siteDir: DEMO_SITE }), launchBrowser()]);
    admin = await openPasskeyTab(browser);
  });
  after(async () => {
    await browser?.close();
    await serve?.close();
    otherSite?.close();
  });

  const siteSession = async () => (await admin.context.cookies(serve.siteOrigin)).find((c) => c.name === '_oauth2_proxy');

  it('shows the public home page to a visitor', async () => {
    await admin.page.goto(`${serve.siteOrigin}/`);
    assert.match(await admin.page.locator('h1').innerText(), /A static site with a private room/);
  });

  it('follows the setup link, registers the admin\'s passkey and reaches /private/', async () => {
    const { token } = await serve.id.services.identity.setup.issueLink();
    await createFirstAdminInBrowser(admin, { idOrigin: serve.idOrigin, setupToken: token, username: 'alice', email: 'alice@example.com' });
    const { page } = admin;
    assert.equal(await passkeysIn(admin), 1);

    await page.goto(`${serve.siteOrigin}/private/`);
    await page.waitForURL(`${serve.siteOrigin}/private/`);
    assert.equal(await page.locator('h1').innerText(), 'Private');
  });

  it('tells the admin, who is not in the family group, that /private/family/ is not for this account, without naming the group', async () => {
    const { page } = admin;
    const response = await page.goto(`${serve.siteOrigin}/private/family/`);
    assert.equal(response?.status(), 403);
    assert.equal(page.url(), `${serve.siteOrigin}/private/family/`);
    const text = await page.locator('body').innerText();
    assert.match(text, /signed in as alice, but this account does not have access here/);
    assert.doesNotMatch(text, /family/);
  });

  it('refuses /private/ after signing out at the identity provider: the browser lands on the sign-in page', async () => {
    const { page } = admin;
    await page.goto(`${serve.idOrigin}/account`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${serve.idOrigin}/login`);
    await page.goto(`${serve.siteOrigin}/private/`);
    await page.waitForURL(/\/login\?next=/);
    assert.equal(new URL(page.url()).origin, serve.idOrigin);
    assert.doesNotMatch(await page.content(), /<h1>Private<\/h1>/);
  });

  it('signs in again with the passkey and comes back to /private/', async () => {
    const { page } = admin;
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(`${serve.siteOrigin}/private/`);
    assert.equal(await page.locator('h1').innerText(), 'Private');
  });

  it("asks before signing out when a link on another website leads to /oauth2/sign_out; its button signs out and continues to the provider's sign-out", async () => {
    const { page } = admin;
    otherSite.show(`<h1>Win a prize</h1><a href="${serve.siteOrigin}/oauth2/sign_out">Claim it</a>`);
    await page.goto(`${otherSite.origin}/prize`);
    await page.getByRole('link', { name: 'Claim it' }).click();
    await page.waitForURL(`${serve.siteOrigin}/oauth2/sign_out`);
    assert.equal(await page.locator('h1').innerText(), 'Sign out?');
    assert.ok(await siteSession(), 'nothing signed out yet');
    const other = await admin.context.newPage();
    await other.goto(`${serve.siteOrigin}/private/`);
    assert.equal(await other.locator('h1').innerText(), 'Private', 'still signed in to the site');
    await other.close();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.origin === serve.idOrigin && url.pathname === '/api/oidc/end-session');
    assert.equal(await siteSession(), undefined, 'the site session is gone');
  });
});
