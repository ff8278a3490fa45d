// The admin console in Chromium: an admin with a passkey sets up an app and invites a friend, who
// registers a passkey in their own browser; the admin resets it and sends a new link. Also checks
// phone width, keyboard-only use, and saves screenshots to test-results/screenshots/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createFirstAdminInBrowser, launchBrowser, openPasskeyTab, passkeysIn, type PasskeyTab } from '../helpers/browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const SCREENSHOTS = new URL('../../test-results/screenshots/', import.meta.url);

async function screenshots(page: Page, name: string): Promise<void> {
  for (const width of [1280, 360]) {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 800 });
    // At phone width nothing may need sideways scrolling: tables stack, long values wrap.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${name} scrolls sideways by ${overflow}px at ${width}px`);
    await page.screenshot({ path: new URL(`admin-${name}-${width}.png`, SCREENSHOTS).pathname, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Presses Tab until the element matching `selector` has focus; fails if it is never reached. */
async function tabTo(page: Page, selector: string, maxPresses = 40): Promise<number> {
  for (let presses = 1; presses <= maxPresses; presses++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return presses;
  }
  throw new Error(`Tab never reached ${selector}`);
}

describe('admin console in Chromium', () => {
  let id: IdServer;
  let browser: Browser;
  let admin: PasskeyTab;
  let friend: PasskeyTab;
  let friendLink = '';

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    [id, browser] = await Promise.all([startIdServer({ APP_NAME: 'Family site' }), launchBrowser()]);
    admin = await openPasskeyTab(browser);
    friend = await openPasskeyTab(browser);
    await admin.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: id.origin });
  });
  after(async () => {
    await browser?.close();
    await id?.close();
  });

  it('signs the admin in with the setup link and a passkey, and shows the Admin link', async () => {
    const { token } = await id.services.identity.setup.issueLink();
    await createFirstAdminInBrowser(admin, { idOrigin: id.origin, setupToken: token, username: 'alice', email: 'alice@example.com' });
    const { page } = admin;
    assert.equal(await passkeysIn(admin), 1);
    await page.getByRole('link', { name: 'Admin', exact: true }).click();
    await page.waitForURL(`${id.origin}/admin`);
    await screenshots(page, 'overview');
  });

  it('creates a group with the keyboard alone, in a logical order with a visible focus', async () => {
    const { page } = admin;
    await page.goto(`${id.origin}/admin/groups`);
    await tabTo(page, '#f-name');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.notEqual(outline, 'none', 'the focused field shows no outline');
    await page.keyboard.type('family');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-friendlyName');
    await page.keyboard.type('Family');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Create group');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/admin\/groups\?notice=created/);
    assert.match(await page.locator('main').innerText(), /family/);
    await screenshots(page, 'groups');
  });

  it('creates an app and shows its secret exactly once', async () => {
    const { page } = admin;
    await page.goto(`${id.origin}/admin/clients/new`);
    await page.getByLabel('Name', { exact: true }).fill('Family site proxy');
    await page.getByLabel(/^Client ID/).fill('pocket-id-client');
    await page.getByLabel(/^Redirect URIs/).fill('https://agents.example.com/oauth2/callback');
    await page.getByLabel('family').check();
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.waitForURL(/\/admin\/clients\/pocket-id-client\/credentials\?reveal=/);
    const secret = (await page.locator('#setup-secret').innerText()).trim();
    assert.match(secret, /^[\w-]{43}$/);
    assert.match(await page.locator('#setup-oauth2-proxy').innerText(), new RegExp(`--client-secret=${secret}`));
    await page.getByRole('button', { name: 'Copy Client secret' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await screenshots(page, 'client-created');
    await page.reload();
    assert.equal(await page.locator('#setup-secret').count(), 0);
    assert.doesNotMatch(await page.content(), new RegExp(secret));
    assert.match(await page.getByRole('alert').innerText(), /shown once/);
  });

  it('adds a friend and hands them a one-time link, which they use to register a passkey in their own browser', async () => {
    const { page } = admin;
    await page.goto(`${id.origin}/admin/users/new`);
    await page.getByLabel(/^Username/).fill('bob');
    await page.getByLabel(/^Email/).fill('bob@example.com');
    await page.getByLabel(/^First name/).fill('Bob');
    await page.getByLabel('Family (family)').check();
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.waitForURL(/\/admin\/users\/[\w-]+\?notice=created/);
    await page.getByRole('link', { name: 'Create a sign-in link' }).click();
    await page.getByLabel('Valid for').selectOption({ label: '24 hours' });
    await page.getByRole('button', { name: 'Create link' }).click();
    await page.waitForURL(/\/link\?reveal=/);
    friendLink = (await page.locator('#link-url').innerText()).trim();
    assert.match(friendLink, new RegExp(`^${id.origin}/lc/[\\w-]{43}$`));
    assert.equal(await page.getByRole('img', { name: /QR code of the sign-in link for bob/ }).count(), 1);
    await screenshots(page, 'sign-in-link');

    await friend.page.goto(friendLink);
    await friend.page.getByRole('button', { name: 'Continue' }).click();
    await friend.page.waitForURL(`${id.origin}/account?welcome=1`);
    await friend.page.getByRole('button', { name: 'Add a passkey' }).click();
    await friend.page.waitForURL(/\/account\?added=1/);
    assert.equal(await passkeysIn(friend), 1);
    await page.goto(`${id.origin}/admin/users?q=bob`);
    assert.match(await page.getByRole('row', { name: /bob/ }).innerText(), /Passkeys\s*1|\b1\b/);
    await screenshots(page, 'users');
  });

  it('resets the friend\'s passkeys and issues a new link that works', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'bob', exact: true }).click();
    await page.waitForURL(/\/admin\/users\/[\w-]+$/);
    await screenshots(page, 'user');
    await page.getByRole('link', { name: 'Reset passkeys' }).click();
    assert.match(await page.locator('main').innerText(), /All of Bob's passkeys are removed/);
    await page.getByLabel(/Yes, remove all passkeys of bob/).check();
    await page.getByRole('button', { name: 'Reset passkeys' }).click();
    await page.waitForURL(/\/link\?reset=1/);
    const bob = (await id.services.identity.users.findByLogin('bob'))!;
    assert.equal(await id.services.webauthn.countPasskeys(bob.id), 0);
    // The friend was signed out everywhere.
    await friend.page.goto(`${id.origin}/account`);
    await friend.page.waitForURL(/\/login\?next=/);

    await page.getByRole('button', { name: 'Create link' }).click();
    const newLink = (await page.locator('#link-url').innerText()).trim();
    assert.notEqual(newLink, friendLink);
    await friend.page.goto(newLink);
    await friend.page.getByRole('button', { name: 'Continue' }).click();
    await friend.page.waitForURL(`${id.origin}/account?welcome=1`);
    await friend.page.getByRole('button', { name: 'Add a passkey' }).click();
    await friend.page.waitForURL(/\/account\?added=1/);
    assert.equal(await id.services.webauthn.countPasskeys(bob.id), 1);
  });

  it('refuses to delete the last admin with a clear message', async () => {
    const { page } = admin;
    const alice = (await id.services.identity.users.findByLogin('alice'))!;
    await page.goto(`${id.origin}/admin/users/${alice.id}`);
    await page.getByRole('link', { name: 'Delete user…' }).click();
    assert.match(await page.getByRole('alert').innerText(), /alice is the only active admin and cannot be deleted.*Make someone else an admin first/);
    assert.equal(await page.getByRole('button', { name: 'Delete user' }).count(), 0);
    assert.ok(await id.services.identity.users.get(alice.id));
  });

  it('shows the audit log and settings at phone width without sideways scrolling', async () => {
    const { page } = admin;
    await page.goto(`${id.origin}/admin/audit`);
    assert.match(await page.locator('main').innerText(), /passkeys_reset/);
    await screenshots(page, 'audit');
    await page.goto(`${id.origin}/admin/settings`);
    // The application name is an editable field now (issue #5), so its value is the input's.
    assert.equal(await page.locator('#f-appName').inputValue(), 'Family site');
    await screenshots(page, 'settings');
  });
});
