// OIDC authorization against a real `latchkey id`, signing in with a passkey when the provider
// asks for it: what a person does in a browser, with idBrowser's software passkey.
import type { Hop } from './browser-jar.ts';
import { idBrowser } from './id-browser.ts';
import type { IdServer } from './id-server.ts';

export type IdBrowser = ReturnType<typeof idBrowser>;

/**
 * A user invited the way an admin does it: a one-time link, opened in their browser, then
 * "Add a passkey". The browser is signed out afterwards, so the next sign-in needs the passkey.
 */
export async function enrollUser(id: IdServer, input: { username: string; email?: string; firstName?: string; lastName?: string; groups?: string[]; emailVerified?: boolean }) {
  const { identity } = id.services;
  for (const group of input.groups ?? []) if (!(await identity.groups.findByName(group))) await identity.groups.create({ name: group });
  const user = await identity.users.create({ username: input.username, email: input.email ?? null, firstName: input.firstName, lastName: input.lastName, emailVerified: input.emailVerified });
  if (input.groups?.length) await identity.groups.setUserGroups(user.id, input.groups);
  const { token } = await identity.links.issue('signin', user.id, 600);
  const browser = idBrowser(id.origin);
  const used = await browser.useOneTimeLink(token);
  if (used.status !== 303) throw new Error(`one-time link refused: ${used.status}`);
  await browser.page('/account');
  const registered = await browser.registerPasskey('Test device');
  if (registered.response.status !== 200) throw new Error(`passkey registration failed: ${JSON.stringify(registered.body)}`);
  await signOut(browser);
  return { user, browser };
}

/** The account menu's "Sign out" (a form post with the page's CSRF token). */
export async function signOut(browser: IdBrowser): Promise<void> {
  await browser.page('/account');
  const out = await browser.form('/logout', {});
  if (out.status !== 303) throw new Error(`sign-out failed: ${out.status}`);
}

export interface PasskeyAuthorizeOutcome {
  /** The redirect to the client's redirect_uri (never fetched), or null if the flow stopped elsewhere. */
  callback: URL | null;
  /** Whether the provider sent the browser to its passkey sign-in page on the way. */
  signedInWithPasskey: boolean;
  hops: Hop[];
  finalStatus: number;
  finalBody: string;
}

/**
 * Follows an authorization URL through the provider. At the provider's sign-in page
 * (/login?next=/interaction/…) it presses "Sign in with a passkey" and goes where the page would
 * go; it stops at the first redirect to `redirectUriPrefix` or at the first page that is not a redirect.
 */
export async function authorizeWithPasskey(browser: IdBrowser, id: IdServer, authorizationUrl: string, redirectUriPrefix: string): Promise<PasskeyAuthorizeOutcome> {
  const toClient = (url: URL) => url.href.startsWith(redirectUriPrefix);
  const toSignIn = (url: URL) => url.origin === id.origin && url.pathname === '/login';
  let step = await browser.jar.follow(authorizationUrl, (next) => !toClient(next) && !toSignIn(next));
  const hops = [...step.hops];
  let location = step.response.headers.get('location');
  let signedInWithPasskey = false;
  if (location && toSignIn(new URL(location, step.url))) {
    await step.response.body?.cancel();
    const signInPath = new URL(location, step.url);
    const signInPage = await browser.page(signInPath.pathname + signInPath.search);
    hops.push({ url: signInPath.href, status: signInPage.response.status, location: null });
    const signedIn = await browser.signInWithPasskey();
    if (signedIn.response.status !== 200) throw new Error(`passkey sign-in failed: ${JSON.stringify(signedIn.body)}`);
    signedInWithPasskey = true;
    step = await browser.jar.follow(new URL(String(signedIn.body.redirectTo), id.origin).href, (next) => !toClient(next));
    hops.push(...step.hops);
    location = step.response.headers.get('location');
  }
  const next = location ? new URL(location, step.url) : null;
  if (next && toClient(next)) {
    await step.response.body?.cancel();
    return { callback: next, signedInWithPasskey, hops, finalStatus: step.response.status, finalBody: '' };
  }
  return { callback: null, signedInWithPasskey, hops, finalStatus: step.response.status, finalBody: await step.response.text() };
}
