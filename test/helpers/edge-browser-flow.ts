// What a friend does in Chromium against the guide's stack behind a real edge: add a passkey from
// the invitation link, then open a private page and sign in with it. Every top-level navigation
// is recorded, so a test can tell a real OIDC round trip from a page served straight away.
import type { PasskeyTab } from './browser.ts';
import { ID_URL } from './guide-stack.ts';

/**
 * Opens the one-time link, adds a passkey on the account page, and signs out of the id again.
 * `idUrl` is the id's public origin (the guide stack's by default).
 */
export async function addPasskeyFromInvitation(tab: PasskeyTab, linkUrl: string, idUrl = ID_URL): Promise<void> {
  const { page } = tab;
  await page.goto(linkUrl);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${idUrl}/account?welcome=1`);
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.waitForURL(`${idUrl}/account?added=1`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${idUrl}/login`);
}

/** Top-level navigations (document requests) of the tab from now on, in order. */
export function recordNavigations(tab: PasskeyTab): string[] {
  const urls: string[] = [];
  tab.page.on('request', (request) => {
    if (request.isNavigationRequest() && request.frame() === tab.page.mainFrame()) urls.push(request.url());
  });
  return urls;
}

/**
 * Opens `url`; when the edge sends the browser to the id's sign-in page, presses "Sign in with a
 * passkey". Resolves once the tab is back at `url`.
 */
export async function visitSigningInIfAsked(tab: PasskeyTab, url: string, idUrl = ID_URL): Promise<void> {
  const { page } = tab;
  await page.goto(url);
  if (page.url().startsWith(`${idUrl}/login`)) await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForURL(url);
}
