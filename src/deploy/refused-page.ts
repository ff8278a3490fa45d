import { POCKET_ID_ROUTES } from '../oidc/paths.ts';
import { httpsOrigin } from './nginx-parts.ts';
import type { DeploymentPlan } from './plan.ts';

/** The identity provider's RP-Initiated Logout endpoint, as browsers reach it. */
export const providerLogoutUrl = (plan: DeploymentPlan): string => `${httpsOrigin(plan, plan.idHost)}${POCKET_ID_ROUTES.end_session}`;

/**
 * What a signed-in visitor whom the proxy refused (403: not in the prefix's groups) sees from the
 * edge, instead of a bare "403 Forbidden": a page in place, never a redirect to sign in, which
 * would bring them straight back as the same user (a loop). nginx's auth_request and Caddy's
 * forward_auth both drop the proxy's own body, so the edge carries the page. Like the proxy's own
 * page (src/proxy/pages.ts) it never names the groups that would be let in: who may see a section
 * is not told to those who may not. One fixed text: no quote for nginx's '…' or Caddy's `…`.
 * "Sign out" continues to the provider's sign-out (`providerLogoutUrl`, which the proxy's
 * sign_out accepts as a target): signing out of the site alone would not switch accounts, as the
 * provider would sign the same account straight back in.
 */
export function refusedPageHtml(providerLogoutUrl: string): string {
  const signOut = `/oauth2/sign_out?rd=${encodeURIComponent(providerLogoutUrl)}`;
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex"><title>Not available to this account</title></head>',
    '<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5"><main>',
    '<h1>This page is not available to your account</h1><p role="alert">You are signed in, but your account does not have access here.</p>',
    `<p>To use another account, <a href="${signOut}">sign out</a>, then sign in with it. If your account should have access, ask the site’s administrator.</p>`,
    '<p><a href="/">Back to the site</a></p>',
    '</main></body></html>',
  ].join('');
}
