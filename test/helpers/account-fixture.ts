// Users for the account-page tests: created the way an admin does it (a one-time link opened in
// the user's browser), then a passkey registered from the account page. The browser stays signed in.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { freePort } from './free-port.ts';
import { idBrowser } from './id-browser.ts';
import type { IdServer } from './id-server.ts';

export type SignedInBrowser = ReturnType<typeof idBrowser>;

export async function signedInUser(id: IdServer, input: { username: string; isAdmin?: boolean; email?: string; passkeys?: string[] }) {
  const user = await id.services.identity.users.create({ username: input.username, isAdmin: input.isAdmin, email: input.email ?? null });
  const browser = await openLink(id, user.id);
  // One authenticator holds one passkey per account (it refuses excluded credentials), so each
  // further passkey comes from another device: another browser, signed in with its own link.
  for (const [index, name] of (input.passkeys ?? ['Laptop']).entries()) {
    const device = index === 0 ? browser : await openLink(id, user.id);
    const registered = await device.registerPasskey(name);
    if (registered.response.status !== 200) throw new Error(`passkey registration failed: ${JSON.stringify(registered.body)}`);
  }
  return { user, browser };
}

/** A fresh browser signed in to the user's account through a one-time link. */
export async function openLink(id: IdServer, userId: string): Promise<SignedInBrowser> {
  const { token } = await id.services.identity.links.issue('signin', userId, 600);
  const browser = idBrowser(id.origin);
  const used = await browser.useOneTimeLink(token);
  if (used.status !== 303) throw new Error(`one-time link refused: ${used.status}`);
  await browser.page('/account');
  return browser;
}

/** The recovery codes on the page shown right after making them. */
export const codesIn = (html: string): string[] => [...html.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]);

/** A form post from another site: right cookies, wrong origin. */
export function crossSitePost(browser: SignedInBrowser, origin: string, path: string, fields: Record<string, string>) {
  return browser.jar.fetch(new URL(path, origin), {
    method: 'POST', headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, body: new URLSearchParams({ csrf: browser.csrf, ...fields }),
  });
}

/** Where the test apps' codes go: nothing listens there, the redirect itself is the answer. */
export const APP_REDIRECT_URI = 'http://127.0.0.1:9/callback';

/** An authorization by a signed-in browser: the provider grants the app and redirects back to it. */
export async function signInToApp(id: IdServer, browser: SignedInBrowser, clientId: string): Promise<void> {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL('/authorize', id.origin);
  url.search = new URLSearchParams({
    client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: APP_REDIRECT_URI, state: 'st', nonce: 'no',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  }).toString();
  const step = await browser.jar.follow(url.href, (next) => !next.href.startsWith(APP_REDIRECT_URI));
  const location = step.response.headers.get('location') ?? '';
  await step.response.body?.cancel();
  assert.ok(location.startsWith(APP_REDIRECT_URI), `the app got a code (stopped at ${step.url} with ${step.response.status})`);
}

/** An app's back-channel logout endpoint: collects the logout tokens it is sent. */
export async function startLogoutReceiver(): Promise<{ uri: string; tokens: string[]; close(): Promise<void> }> {
  const tokens: string[] = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => { tokens.push(new URLSearchParams(body).get('logout_token') ?? ''); response.writeHead(200).end(); });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as { port: number };
  return { uri: `http://127.0.0.1:${port}/backchannel`, tokens, close: () => new Promise<void>((resolve) => receiver.close(() => resolve())) };
}

export type LogoutReceiver = Awaited<ReturnType<typeof startLogoutReceiver>>;

/**
 * The three apps a sign-out report speaks of: `site`, whose back-channel logout URI is a closed
 * port on this machine (not told); `wiki`, which hears the logout (`receiver` collects its tokens);
 * and `bare`, a proxy registered without a back-channel logout URI (cannot be told).
 */
export async function registerAppsToTell(id: IdServer): Promise<{ unreachable: string; receiver: LogoutReceiver }> {
  const unreachable = `http://127.0.0.1:${await freePort()}/oauth2/backchannel-logout`;
  const receiver = await startLogoutReceiver();
  await id.services.clients.create({ id: 'site', name: 'Agents <site>', redirectUris: [APP_REDIRECT_URI], unrestricted: true, backchannelLogoutUri: unreachable });
  await id.services.clients.create({ id: 'wiki', name: 'Family wiki', redirectUris: [APP_REDIRECT_URI], unrestricted: true, backchannelLogoutUri: receiver.uri });
  await id.services.clients.create({ id: 'bare', name: 'Photos <bare>', redirectUris: [APP_REDIRECT_URI, 'https://photos.example/oauth2/callback'], unrestricted: true });
  return { unreachable, receiver };
}
