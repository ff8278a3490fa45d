// One sign-in of a fresh browser with a passkey, over HTTP, exactly as a browser makes it
// (test/helpers/id-browser.ts: cookie jar, software passkey, the sign-in page's own requests):
// the site's sign-in start → the provider's sign-in page → passkey → back through the OIDC code
// flow → the site's callback, which exchanges the code. Used against `latchkey serve`
// (serve-fixture.ts) and against `latchkey id` + `latchkey proxy` (data-growth.ts).
import { idBrowser } from '../../test/helpers/id-browser.ts';
import type { SoftAuthenticator } from '../../test/helpers/soft-authenticator.ts';

export type Browser = ReturnType<typeof idBrowser>;

export interface SignInTimings {
  /** login/start: the WebAuthn options. */
  optionsMs: number;
  /** login/finish: the assertion checked, the provider's session made. */
  verifyMs: number;
  /** /oauth2/callback: code exchanged for tokens, ID token checked, session stored. */
  callbackMs: number;
}

export interface SignInTarget {
  /** The protected site (serve's site origin, or the proxy's own origin). */
  siteOrigin: string;
  /** The provider, http://localhost:PORT (a valid WebAuthn RP ID). */
  idOrigin: string;
  /** Where a signed-out visitor starts: a protected page, or the proxy's /oauth2/start?rd=/. */
  startPath: string;
  /** Asked with the new session's cookies afterwards; must answer `status`, or the sign-in did not work. */
  check: { path: string; status: number };
}

/**
 * A full sign-in; `authenticator` holds the passkey (a second browser of the same person).
 * Returns the site's Cookie header and the server time of the three steps that do real work.
 * `serverLog` adds the server's output to the error when the callback fails.
 */
export async function signInWithPasskey(target: SignInTarget, authenticator: SoftAuthenticator, serverLog?: () => string): Promise<{ cookie: string; timings: SignInTimings }> {
  const browser = idBrowser(target.idOrigin);
  Object.assign(browser.authenticator, authenticator);
  // The site sends the browser to the provider, which asks it to sign in.
  const toSignIn = await browser.jar.follow(new URL(target.startPath, target.siteOrigin).href,
    (next) => !(next.origin === target.idOrigin && next.pathname === '/login'));
  const signInPage = toSignIn.response.headers.get('location');
  await toSignIn.response.body?.cancel();
  if (!signInPage) throw new Error(`${target.startPath} did not lead to the provider's sign-in page (${toSignIn.response.status} at ${toSignIn.url})`);
  await browser.page(new URL(signInPage, toSignIn.url).href);
  let started = performance.now();
  const start = await browser.json('/api/webauthn/login/start', {});
  const optionsMs = performance.now() - started;
  const assertion = browser.authenticator.login(start.body.options as never);
  started = performance.now();
  const finish = await browser.json('/api/webauthn/login/finish', { flowId: start.body.flowId, response: assertion });
  const verifyMs = performance.now() - started;
  if (finish.response.status !== 200) throw new Error(`login/finish answered ${finish.response.status}: ${JSON.stringify(finish.body)}`);
  // Through the provider's redirects up to the callback; then the callback alone is timed.
  let callbackUrl = '';
  await browser.jar.follow(new URL(String(finish.body.redirectTo), target.idOrigin).href, (next) => {
    if (next.pathname !== '/oauth2/callback') return true;
    callbackUrl = next.href;
    return false;
  });
  if (!callbackUrl) throw new Error('the sign-in did not reach the callback');
  started = performance.now();
  const callback = await browser.jar.fetch(callbackUrl);
  const callbackMs = performance.now() - started;
  const body = await callback.text();
  if (callback.status !== 302) throw new Error(`callback answered ${callback.status}: ${callbackUrl} ${/[^>]*Please[^<]*/.exec(body)?.[0]}${serverLog ? `\n${serverLog()}` : ''}`);
  const checkUrl = new URL(target.check.path, target.siteOrigin);
  const cookie = browser.jar.cookieHeader(checkUrl);
  const check = await fetch(checkUrl, { headers: { cookie }, redirect: 'manual' });
  await check.arrayBuffer();
  if (check.status !== target.check.status) throw new Error(`${target.check.path} answered ${check.status} after sign-in (expected ${target.check.status})`);
  return { cookie, timings: { optionsMs, verifyMs, callbackMs } };
}
