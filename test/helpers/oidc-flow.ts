import type { BrowserJar, Hop } from './browser-jar.ts';
import type { OidcTestServer } from './oidc-test-server.ts';

export interface AuthorizeOutcome {
  /** The redirect back to the client (the redirect_uri with code/state/iss), or null if none came. */
  callback: URL | null;
  hops: Hop[];
  /** The last response when the flow stopped somewhere other than the callback (an error page). */
  finalStatus: number;
  finalBody: string;
}

/**
 * Drives a browser through an authorization request: follows redirects; at the sign-in page it
 * uses the test sign-in seam as `userId`; stops at the first redirect to `redirectUriPrefix`
 * (which is never fetched) or at the first non-redirect response.
 */
export async function authorizeInBrowser(server: OidcTestServer, jar: BrowserJar, authorizationUrl: string, userId: string | null, redirectUriPrefix: string): Promise<AuthorizeOutcome> {
  const toClient = (url: URL) => url.href.startsWith(redirectUriPrefix);
  const toSignIn = (url: URL) => url.origin === server.issuer && url.pathname === '/test/sign-in';
  let step = await jar.follow(authorizationUrl, (next) => !toClient(next) && !toSignIn(next));
  const hops = [...step.hops];
  let location = step.response.headers.get('location');
  if (location && toSignIn(new URL(location, step.url)) && userId) {
    const uid = new URL(location, step.url).searchParams.get('uid')!;
    step = await jar.follow(server.loginUrl(uid, userId), (next) => !toClient(next) && !toSignIn(next));
    hops.push(...step.hops);
    location = step.response.headers.get('location');
  }
  const next = location ? new URL(location, step.url) : null;
  if (next && toClient(next)) {
    await step.response.body?.cancel();
    return { callback: next, hops, finalStatus: step.response.status, finalBody: '' };
  }
  return { callback: null, hops, finalStatus: step.response.status, finalBody: await step.response.text() };
}
