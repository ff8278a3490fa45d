// The account pages in Chromium with virtual authenticators: a second device's passkey, rename and
// delete; a recovery-code sign-in driven by the keyboard alone; "sign out everywhere" reaching the
// other browser; and the pages at 1280 and 360 px (screenshots in test-results/screenshots/).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openPasskeyTab, passkeysIn, type PasskeyTab } from '../helpers/browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';
import type { User } from '../../src/identity/users.ts';

const SCREENSHOTS = 'test-results/screenshots';

/** Presses Tab until `target` has focus; fails when it is not reached in `max` presses. */
async function tabTo(page: Page, target: string, max = 25): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.locator(target).evaluate((el) => el === document.activeElement)) return;
  }
  assert.fail(`${target} was not reached with the Tab key`);
}

const focusedName = (page: Page) => page.evaluate(() => {
  const el = document.activeElement as HTMLInputElement | HTMLButtonElement | null;
  return el ? `${el.tagName.toLowerCase()}:${el.getAttribute('name') ?? el.textContent?.trim()}` : '';
});

describe('account pages in Chromium', () => {
  let id: IdServer;
  let browser: Browser;
  let laptop: PasskeyTab;
  let user: User;
  let codes: string[] = [];

  before(async () => {
    [id, browser] = await Promise.all([startIdServer(), launchBrowser()]);
    mkdirSync(SCREENSHOTS, { recursive: true });
    user = await id.services.identity.users.create({ username: 'dana', firstName: 'Dana', lastName: 'Scully', email: 'dana@example.com' });
    laptop = await openPasskeyTab(browser);
  });
  after(async () => {
    await browser?.close();
    await id?.close();
  });

  async function openOneTimeLink(tab: PasskeyTab) {
    const { token } = await id.services.identity.links.issue('signin', user.id, 600);
    await tab.page.goto(`${id.origin}/lc/${token}`);
    await tab.page.getByRole('button', { name: 'Continue' }).click();
    await tab.page.waitForURL(`${id.origin}/account?welcome=1`);
  }

  async function addPasskey(tab: PasskeyTab, name: string) {
    await tab.page.getByLabel(/Name for the new passkey/).fill(name);
    await tab.page.getByRole('button', { name: 'Add a passkey' }).click();
    await tab.page.waitForURL(`${id.origin}/account?added=1`);
  }

  const passkeyNames = async (page: Page) => page.locator('.items .item-title').allInnerTexts();

  it('adds a second passkey from another device, then renames and deletes it', async () => {
    await openOneTimeLink(laptop);
    await addPasskey(laptop, 'Laptop');
    await laptop.page.getByText('You have only one passkey').waitFor();

    const phone = await openPasskeyTab(browser);
    try {
      await openOneTimeLink(phone);
      await addPasskey(phone, 'Phone');
      assert.equal(await passkeysIn(phone), 1, 'the phone holds its own passkey');

      await laptop.page.goto(`${id.origin}/account`);
      assert.deepEqual(await passkeyNames(laptop.page), ['Laptop', 'Phone']);
      assert.equal(await laptop.page.getByText('You have only one passkey').count(), 0);

      const phoneItem = laptop.page.locator('.item', { has: laptop.page.locator('.item-title', { hasText: 'Phone' }) });
      await phoneItem.locator('summary').click();
      await phoneItem.getByLabel('New name for “Phone”').fill('Old phone');
      await phoneItem.getByRole('button', { name: 'Save name' }).click();
      await laptop.page.waitForURL(`${id.origin}/account?done=renamed`);
      assert.deepEqual(await passkeyNames(laptop.page), ['Laptop', 'Old phone']);

      await laptop.page.getByRole('link', { name: 'Delete Old phone' }).click();
      await laptop.page.getByRole('heading', { name: 'Delete the passkey “Old phone”?' }).waitFor();
      await laptop.page.getByRole('button', { name: 'Delete passkey' }).click();
      await laptop.page.waitForURL(`${id.origin}/account?done=deleted`);
      assert.deepEqual(await passkeyNames(laptop.page), ['Laptop']);

      // The phone still holds the deleted passkey, but this site no longer accepts it.
      await phone.context.clearCookies();
      await phone.page.goto(`${id.origin}/login`);
      await phone.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await phone.page.getByRole('alert').filter({ hasText: /not registered/ }).waitFor();
    } finally {
      await phone.context.close();
    }
  });

  it('makes recovery codes and shows them once', async () => {
    const { page } = laptop;
    await page.getByRole('navigation', { name: 'Your account' }).getByRole('link', { name: 'Recovery codes' }).click();
    await page.getByRole('button', { name: 'Make recovery codes' }).click();
    await page.getByRole('heading', { name: 'Your new recovery codes' }).waitFor();
    codes = await page.locator('ol.codes code').allInnerTexts();
    assert.equal(codes.length, 10);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: `${SCREENSHOTS}/recovery-codes-1280.png`, fullPage: true });
    await page.setViewportSize({ width: 360, height: 780 });
    await page.screenshot({ path: `${SCREENSHOTS}/recovery-codes-360.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.getByRole('link', { name: 'I have saved them' }).click();
    assert.match(await page.locator('main').innerText(), /You have 10 unused codes of 10/);
  });

  it('signs in with a recovery code using only the keyboard, and is asked to add a passkey', async () => {
    const tablet = await openPasskeyTab(browser);
    try {
      const { page } = tablet;
      await page.goto(`${id.origin}/login`);
      await tabTo(page, 'a[href="/login/recovery"]');
      // The focused link shows a visible focus ring.
      assert.equal(await page.locator('a[href="/login/recovery"]').evaluate((el) => getComputedStyle(el).outlineStyle), 'solid');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${id.origin}/login/recovery`);
      await tabTo(page, '#login');
      await page.keyboard.type('dana');
      await page.keyboard.press('Tab');
      assert.equal(await focusedName(page), 'input:code', 'focus moves from the username to the code');
      await page.keyboard.type(codes[0].toUpperCase());
      await page.keyboard.press('Tab');
      assert.equal(await focusedName(page), 'button:Sign in', 'then to the sign-in button');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${id.origin}/account?recovered=1#add-passkey`);
      assert.match(await page.getByRole('status').innerText(), /You signed in with a recovery code\. That code no longer works; you have 9 left\./);

      await tabTo(page, '#passkey-name');
      await page.keyboard.type('Tablet');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${id.origin}/account?added=1`);
      assert.equal(await passkeysIn(tablet), 1);
      assert.deepEqual(await passkeyNames(page), ['Laptop', 'Tablet']);
    } finally {
      await tablet.context.close();
    }
  });

  it('signs the other browser out with "sign out everywhere", and keeps this one signed in', async () => {
    const other = await openPasskeyTab(browser);
    try {
      await other.page.goto(`${id.origin}/login/recovery`);
      await other.page.getByLabel('Username or email').fill('dana@example.com');
      await other.page.getByRole('textbox', { name: 'Recovery code' }).fill(codes[1]);
      await other.page.getByRole('button', { name: 'Sign in' }).click();
      await other.page.waitForURL(/\/account\?recovered=1/);

      const { page } = laptop;
      await page.goto(`${id.origin}/account`);
      await page.getByRole('link', { name: 'Sessions and apps' }).click();
      // The laptop, and the phone, tablet and other browser of the tests before: closing a tab does not end a session.
      assert.equal(await page.locator('.items[aria-label=Sessions] > li').count(), 4);
      await page.getByRole('link', { name: 'Sign out everywhere…' }).click();
      await page.getByRole('button', { name: 'Sign out everywhere' }).click();
      await page.waitForURL(`${id.origin}/account/sessions?done=everywhere`);
      assert.equal(await page.locator('.items[aria-label=Sessions] > li').count(), 1);

      await other.page.goto(`${id.origin}/account`);
      await other.page.waitForURL(/\/login\?next=/);
    } finally {
      await other.context.close();
    }
  });

  it('fits the account and sign-in pages into 360 px without sideways scrolling', async () => {
    const { page } = laptop;
    const shots: [string, string][] = [['/account', 'passkeys'], ['/account/sessions', 'sessions'], ['/account/profile', 'profile']];
    for (const width of [1280, 360]) {
      await page.setViewportSize({ width, height: width === 360 ? 780 : 900 });
      for (const [path, name] of shots) {
        await page.goto(`${id.origin}${path}`);
        await page.screenshot({ path: `${SCREENSHOTS}/${name}-${width}.png`, fullPage: true });
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${path} fits ${width} px`);
      }
    }
    const visitor = await browser.newPage();
    for (const width of [1280, 360]) {
      await visitor.setViewportSize({ width, height: width === 360 ? 780 : 900 });
      for (const [path, name] of [['/login', 'sign-in'], ['/login/recovery', 'recovery-sign-in']]) {
        await visitor.goto(`${id.origin}${path}`);
        await visitor.screenshot({ path: `${SCREENSHOTS}/${name}-${width}.png`, fullPage: true });
        assert.ok(await visitor.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${path} fits ${width} px`);
      }
    }
    await visitor.close();
  });
});
