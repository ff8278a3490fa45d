// The identity provider in a real browser: Debian Chromium with a virtual authenticator follows
// the setup link, registers the admin's passkey, signs out and in again, and invites a friend.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createFirstAdminInBrowser, launchBrowser, openPasskeyTab, passkeysIn, type PasskeyTab } from '../helpers/browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

describe('latchkey id in Chromium with a virtual authenticator', () => {
  let id: IdServer;
  let browser: Browser;
  let admin: PasskeyTab;

  before(async () => {
    [id, browser] = await Promise.all([startIdServer(), launchBrowser()]);
    admin = await openPasskeyTab(browser);
  });
  after(async () => {
    await browser?.close();
    await id?.close();
  });

  it('follows the setup link, creates the admin and registers their passkey', async () => {
    const { token } = await id.services.identity.setup.issueLink();
    await createFirstAdminInBrowser(admin, { idOrigin: id.origin, setupToken: token, username: 'alice', email: 'alice@example.com', passkeyName: 'Work laptop' });
    const { page } = admin;
    assert.match(await page.locator('main').innerText(), /Work laptop/);
    assert.equal(await passkeysIn(admin), 1);
  });

  it('signs out and back in with the passkey alone (no username asked)', async () => {
    const { page } = admin;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${id.origin}/login`);
    await page.goto(`${id.origin}/account`);
    await page.waitForURL(/\/login\?next=/);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(`${id.origin}/account`);
    assert.match(await page.locator('main').innerText(), /Your passkeys/);
  });

  it('lets a friend invited by link register a passkey in their own browser', async () => {
    const friend = await id.services.identity.users.create({ username: 'bob', email: 'bob@example.com' });
    const { token } = await id.services.identity.links.issue('signin', friend.id, 3600);
    const tab = await openPasskeyTab(browser);
    // what the link's page tells others of its address: its stylesheet's and its form's Referer
    const referers = new Map<string, string | undefined>();
    tab.page.on('request', (request) => { if (!referers.has(request.url())) referers.set(request.url(), request.headers().referer); });
    try {
      await tab.page.goto(`${id.origin}/lc/${token}`);
      await tab.page.getByRole('button', { name: 'Continue' }).click();
      await tab.page.waitForURL(`${id.origin}/account?welcome=1`);
      assert.equal(referers.get(`${id.origin}/assets/style.css`), `${id.origin}/`, 'the origin alone, not the link');
      assert.equal(referers.get(`${id.origin}/link`), `${id.origin}/`);
      for (const [url, referer] of referers) assert.ok(!referer?.includes(token), `${url} was sent the link as its Referer`);
      await tab.page.getByRole('button', { name: 'Add a passkey' }).click();
      await tab.page.waitForURL(`${id.origin}/account?added=1`);
      assert.equal(await passkeysIn(tab), 1);
      const passkeys = await id.services.webauthn.listPasskeys(friend.id);
      assert.equal(passkeys.length, 1);
      // The link worked once: opening it again shows that it no longer does.
      await tab.page.goto(`${id.origin}/lc/${token}`);
      assert.match(await tab.page.locator('main').innerText(), /no longer works/);
    } finally {
      await tab.context.close();
    }
  });

  it('tells a user whose passkey this site does not know, instead of failing silently', async () => {
    const stranger = await openPasskeyTab(browser);
    try {
      // A passkey for this RP ID that the server never registered (a deleted account, say).
      await stranger.cdp.send('WebAuthn.addCredential', {
        authenticatorId: stranger.authenticatorId,
        credential: { credentialId: Buffer.from('unknown-credential').toString('base64'), isResidentCredential: true, rpId: 'localhost',
          privateKey: await es256PrivateKeyPkcs8(), userHandle: Buffer.from('nobody').toString('base64'), signCount: 0 },
      });
      await stranger.page.goto(`${id.origin}/login`);
      await stranger.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await stranger.page.getByRole('alert').filter({ hasText: /passkey/i }).waitFor();
      assert.match(await stranger.page.getByRole('alert').innerText(), /not (recognised|recognized|known)|unknown|isn't registered|not registered/i);
    } finally {
      await stranger.context.close();
    }
  });
});

async function es256PrivateKeyPkcs8(): Promise<string> {
  const { generateKeyPairSync } = await import('node:crypto');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
}
