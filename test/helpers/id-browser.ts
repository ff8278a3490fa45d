import { createSoftAuthenticator, type SoftAlgorithm, type SoftAuthenticatorOptions } from './soft-authenticator.ts';
import { BrowserJar } from './browser-jar.ts';

/**
 * A scripted browser for `latchkey id`: a cookie jar, a software passkey, and the same requests
 * the sign-in pages' script makes (Origin, Sec-Fetch-Site and the CSRF token included; the jar
 * carries each passkey ceremony's cookie from its start to its finish, as a browser does).
 */
export function idBrowser(origin: string, algorithm: SoftAlgorithm = 'ES256', options: Pick<SoftAuthenticatorOptions, 'signCounter'> = {}) {
  const jar = new BrowserJar();
  const authenticator = createSoftAuthenticator({ origin, rpId: new URL(origin).hostname, algorithm, signCounter: options.signCounter });
  const csrfOf = (html: string) => /name="csrf-token" content="([^"]+)"|name="csrf" value="([^"]+)"/.exec(html)?.slice(1).find(Boolean) ?? '';
  let csrf = '';

  async function page(path: string) {
    const response = await jar.fetch(new URL(path, origin));
    const html = await response.text();
    csrf = csrfOf(html) || csrf;
    return { response, html };
  }

  async function json(path: string, body: unknown) {
    const response = await jar.fetch(new URL(path, origin), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', origin, 'sec-fetch-site': 'same-origin', 'x-csrf-token': csrf },
      body: JSON.stringify(body),
    });
    return { response, body: (await response.json()) as Record<string, unknown> };
  }

  async function form(path: string, fields: Record<string, string>) {
    return jar.fetch(new URL(path, origin), {
      method: 'POST', headers: { origin, 'sec-fetch-site': 'same-origin' }, body: new URLSearchParams({ csrf, ...fields }),
    });
  }

  return {
    jar, authenticator, page, json, form,
    get csrf() { return csrf; },
    /** Opens a one-time sign-in link and presses Continue, as its owner does (GET shows, POST uses). */
    async useOneTimeLink(token: string) {
      await page(`/lc/${token}`);
      return form('/link', { token });
    },
    /** The account page's "Add a passkey" button. */
    async registerPasskey(name?: string) {
      const start = await json('/api/webauthn/register/start', {});
      if (start.response.status !== 200) return start;
      const response = await authenticator.register(start.body.options as never);
      return json('/api/webauthn/register/finish', { flowId: start.body.flowId, response, ...(name ? { name } : {}) });
    },
    /** The sign-in page's "Sign in with a passkey" button. */
    async signInWithPasskey() {
      const start = await json('/api/webauthn/login/start', {});
      const response = await authenticator.login(start.body.options as never);
      return json('/api/webauthn/login/finish', { flowId: start.body.flowId, response });
    },
  };
}
