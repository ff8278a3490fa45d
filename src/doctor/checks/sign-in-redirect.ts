import type { DoctorContext } from '../context.ts';
import { OFFLINE, type Check, fail, ok, skip } from '../check.ts';

/** Follows /oauth2/sign_in (and the sign-in page's /oauth2/start) to the provider redirect. */
export async function providerRedirect(ctx: DoctorContext): Promise<{ location: URL; via: string } | { error: string; fix: string }> {
  const site = ctx.urls.site!;
  let url = `${site}/oauth2/sign_in`;
  let answer = await ctx.get(url);
  if ('error' in answer) return { error: `${url}: ${answer.error}`, fix: 'make /oauth2/ on the site reach latchkey proxy' };
  if (answer.status === 200 && answer.body.includes('/oauth2/start')) {
    url = `${site}/oauth2/start`;
    answer = await ctx.get(url);
    if ('error' in answer) return { error: `${url}: ${answer.error}`, fix: 'make /oauth2/ on the site reach latchkey proxy' };
  }
  const location = answer.headers.location;
  if (answer.status < 300 || answer.status > 399 || typeof location !== 'string')
    return { error: `${url} answered ${answer.status} instead of a redirect to the identity provider`, fix: `make /oauth2/ reach latchkey proxy; curl -i ${url} must answer 302` };
  return { location: new URL(location, url), via: url };
}

// The guide's checklist: /oauth2/sign_in sends the browser to the identity provider.
export const signInRedirect: Check = {
  id: 'sign-in-redirect',
  title: 'Signing in sends the browser to the identity provider',
  async run(ctx) {
    if (!ctx.urls.site) return skip(ctx.inputs.offline ? OFFLINE : 'no site URL given (--site-url, or --redirect-url in the proxy options)');
    const found = await providerRedirect(ctx);
    if ('error' in found) return fail(found.error, found.fix);
    const discovery = await ctx.discovery();
    const expected = 'error' in discovery ? ctx.urls.id : String(discovery.document.authorization_endpoint ?? '');
    const target = `${found.location.origin}${found.location.pathname}`;
    if (expected && !target.startsWith(expected))
      return fail(`${found.via} redirects to ${target}, not to the provider (${expected})`, `--oidc-issuer-url=${ctx.urls.id ?? 'https://id.example.com'} in the proxy`);
    return ok(`${found.via} → ${target}`);
  },
};

// Failure mode 5: without X-Forwarded-Proto (and no --redirect-url) the proxy believes the visitor
// used http and asks the provider to return to http://…/oauth2/callback, which is not registered
// (or loses the Secure cookie).
export const callbackUrl: Check = {
  id: 'callback-url',
  title: 'The proxy asks the provider to return to the address visitors use',
  async run(ctx) {
    if (!ctx.urls.site) return skip(ctx.inputs.offline ? OFFLINE : 'no site URL given (--site-url, or --redirect-url in the proxy options)');
    const found = await providerRedirect(ctx);
    if ('error' in found) return skip(`the provider redirect is not reachable (${found.error}); see sign-in-redirect`);
    const redirectUri = found.location.searchParams.get('redirect_uri');
    if (!redirectUri) return fail(`the redirect to the provider carries no redirect_uri: ${found.location.href}`, 'use latchkey proxy (or oauth2-proxy) for /oauth2/');
    const expected = `${ctx.urls.site}/oauth2/callback`;
    if (redirectUri !== expected) {
      const scheme = new URL(redirectUri).protocol !== new URL(expected).protocol;
      return fail(`the proxy asks the provider to return to ${redirectUri}, but visitors use ${expected}${scheme ? ': the proxy does not see the https the visitor used' : ''}`,
        scheme ? 'nginx: proxy_set_header X-Forwarded-Proto $scheme; in every location that proxies to the proxy (and --reverse-proxy=true), or set --redirect-url=' + expected
          : `--redirect-url=${expected}`);
    }
    return ok(`redirect_uri=${redirectUri}`);
  },
};
