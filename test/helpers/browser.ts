import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

// Debian's Chromium, driven by playwright-core (never a downloaded browser). The binary behind
// /usr/bin/chromium's wrapper script starts faster and prints less.
const CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'];
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export async function launchBrowser(options: { env?: Record<string, string>; args?: string[] } = {}): Promise<Browser> {
  const executablePath = CANDIDATES.find((path) => existsSync(path));
  if (!executablePath) throw new Error('Chromium is not installed: run scripts/system-deps.sh (apt-get install chromium)');
  return chromium.launch({ executablePath, headless: true, args: [...ARGS, ...(options.args ?? [])], env: options.env });
}

export interface PasskeyTab {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
}

/**
 * A fresh context (its own cookies) with a tab that has a virtual platform authenticator:
 * resident keys, user verification, presence simulated — what a phone or laptop passkey does.
 */
export async function openPasskeyTab(browser: Browser): Promise<PasskeyTab> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { context, page, cdp, authenticatorId };
}

export async function passkeysIn(tab: PasskeyTab): Promise<number> {
  const { credentials } = await tab.cdp.send('WebAuthn.getCredentials', { authenticatorId: tab.authenticatorId });
  return credentials.length;
}

/**
 * What a new owner does first: open the one-time setup link, create the administrator, and add a
 * passkey on the welcome page. Resolves on the account page with the passkey registered.
 */
export async function createFirstAdminInBrowser(tab: PasskeyTab, input: { idOrigin: string; setupToken: string; username: string; email: string; passkeyName?: string }): Promise<void> {
  const { page } = tab;
  await page.goto(`${input.idOrigin}/setup?token=${input.setupToken}`);
  await page.getByLabel('Username').fill(input.username);
  await page.getByLabel('Email').fill(input.email);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.waitForURL(`${input.idOrigin}/account?welcome=1`);
  if (input.passkeyName) await page.getByLabel(/Name for the new passkey/).fill(input.passkeyName);
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.waitForURL(`${input.idOrigin}/account?added=1`);
}
