// The messages people see on latchkey id's real sign-in page when a passkey sign-in cannot work,
// in Debian's Chromium with a virtual authenticator (issue #2: no secure context, origin
// mismatch, cancelled ceremony, unknown passkey, disabled account).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPasskeyTab, passkeysIn, type PasskeyTab } from '../helpers/browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const SIGN_IN = '[data-passkey-login]';

describe('latchkey id sign-in page messages in Chromium', () => {
  let id: IdServer;
  let browser: Browser;
  let tab: PasskeyTab;
  let userId: string;

  before(async () => {
    [id, browser] = await Promise.all([
      startIdServer(),
      // insecure.test is an ordinary host name over plain http: not a secure context.
      launchBrowser({ args: ['--host-resolver-rules=MAP insecure.test 127.0.0.1'] }),
    ]);
    // A user invited by one-time link registers a passkey in this tab, then signs out.
    const user = await id.services.identity.users.create({ username: 'carol' });
    userId = user.id;
    const { token } = await id.services.identity.links.issue('signin', user.id, 600);
    tab = await openPasskeyTab(browser);
    await tab.page.goto(`${id.origin}/lc/${token}`);
    await tab.page.locator('form[action="/link"] button[type="submit"]').click();
    await tab.page.waitForURL(/\/account/);
    await tab.page.locator('[data-passkey-register]').first().click();
    await tab.page.waitForURL(/added=1/);
    assert.equal(await passkeysIn(tab), 1);
    await tab.context.clearCookies();
  });
  after(async () => {
    await browser?.close();
    await id?.close();
  });

  /** Opens the sign-in page at `origin`, presses the button, and returns the alert's text once it shows `expected`. */
  async function signInMessage(expected: RegExp, origin = id.origin): Promise<string> {
    await tab.page.goto(`${origin}/login`);
    await tab.page.locator(SIGN_IN).click();
    const alert = tab.page.getByRole('alert').filter({ hasText: expected });
    await alert.waitFor({ timeout: 5000 }).catch(async () => {
      assert.fail(`expected ${expected}, the page says: ${await tab.page.getByRole('alert').allInnerTexts()}`);
    });
    assert.equal(new URL(tab.page.url()).pathname, '/login', 'still on the sign-in page');
    assert.equal(await tab.page.locator(SIGN_IN).isEnabled(), true, 'the button can be pressed again');
    assert.equal(await tab.page.evaluate(() => document.activeElement?.hasAttribute('data-passkey-login')), true, 'keyboard focus is back on the button');
    return alert.innerText();
  }

  it('signs in with the registered passkey when nothing is wrong', async () => {
    await tab.page.goto(`${id.origin}/login`);
    await tab.page.locator(SIGN_IN).click();
    await tab.page.waitForURL(`${id.origin}/account`);
    await tab.context.clearCookies();
  });

  it('says the request was cancelled, or this device has no passkey, and links to recovery codes (NotAllowedError)', async () => {
    await tab.cdp.send('WebAuthn.setUserVerified', { authenticatorId: tab.authenticatorId, isUserVerified: false });
    try {
      assert.match(await signInMessage(/cancelled/), /cancelled or timed out, or this device has no passkey for this site\. Try again, use another device, or sign in with a recovery code\./);
      assert.equal(await tab.page.getByRole('alert').getByRole('link', { name: 'sign in with a recovery code' }).getAttribute('href'), '/login/recovery');
    } finally {
      await tab.cdp.send('WebAuthn.setUserVerified', { authenticatorId: tab.authenticatorId, isUserVerified: true });
    }
  });

  it('says the account is disabled when an admin disabled it', async () => {
    await id.services.identity.users.update(userId, { disabled: true });
    try {
      assert.match(await signInMessage(/disabled/), /This account is disabled\. Please contact an administrator/);
    } finally {
      await id.services.identity.users.update(userId, { disabled: false });
    }
  });

  it('says the passkey is not registered here once an admin removed it', async () => {
    const [passkey] = await id.services.webauthn.listPasskeys(userId);
    await id.services.webauthn.deletePasskey(userId, passkey.id);
    assert.match(await signInMessage(/not registered/), /This passkey is not registered here\..*one-time|sign-in link/);
  });

  it('says passkeys need a secure connection on a plain-http host name, and disables the button', async () => {
    await tab.page.goto(`http://insecure.test:${id.port}/login`);
    await tab.page.getByRole('alert').filter({ hasText: /secure connection/ }).waitFor({ timeout: 5000 });
    assert.match(await tab.page.getByRole('alert').innerText(), /Passkeys need a secure connection\. Open this page over https/);
    assert.equal(await tab.page.locator(SIGN_IN).isDisabled(), true);
  });

  it('names APP_URL when the page was opened at another address of the same server', async () => {
    // 127.0.0.1 is a secure context, but APP_URL is http://localhost:PORT: passkeys and the
    // request checks are bound to APP_URL, so the person must be told where to go.
    const text = await signInMessage(/Open/, `http://127.0.0.1:${id.port}`);
    assert.ok(text.includes(`Open ${id.origin}`), text);
  });
});
