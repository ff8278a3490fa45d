// The proxy's pages: the sign-in button (without --skip-provider-button), the refusal of a signed-in
// account, the question before a sign-out another site asked for, and errors.
import { createHash } from 'node:crypto';
import { type Html, html, raw } from '../web/html.ts';

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;line-height:1.5}button,a.button{font:inherit;padding:.6rem 1.2rem;cursor:pointer}';

/**
 * The headers of every answer the proxy writes itself (its pages, JSON, redirects; never an
 * upstream's): no framing (the sign-in button must not be clickjacked), no sniffing, no script at
 * all, and the pages' one inline style by its hash. form-action allows http(s): the sign-in form
 * goes on to the provider.
 */
export const PROXY_PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': [
    "default-src 'none'", `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
    "form-action 'self' https: http:", "frame-ancestors 'none'", "base-uri 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
});

const layout = (title: string, body: Html): Html => html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${title}</title>
<style>${raw(STYLE)}</style>
</head><body><main>${body}</main></body></html>`;

// A GET form drops the query of its action, so rd travels as a hidden field.
export const signInPage = (view: { startPath: string; redirect: string }): Html => layout('Sign in', html`<h1>Sign in</h1>
<p>This part of the site is private.</p>
<form method="get" action="${view.startPath}"><input type="hidden" name="rd" value="${view.redirect}">
<button type="submit">Sign in with your passkey</button></form>`);

/**
 * /oauth2/sign_out asked from another site (cross-site.ts): nothing has happened yet. `action` is
 * sign_out with the validated rd; the form posts it from this page, so the browser marks it same-origin.
 */
export const signOutConfirmPage = (view: { action: string }): Html => layout('Sign out?', html`<h1>Sign out?</h1>
<p>A page on another website sent you here to sign you out of this site. Nothing has changed yet.</p>
<form method="post" action="${view.action}"><button type="submit">Sign out</button></form>
<p>If you did not mean to sign out, <a href="/">go back to the site</a>.</p>`);

export const proxyErrorPage = (view: { status: number; title: string; message: string; requestId: string }): Html => layout(view.title, html`<h1>${view.title}</h1>
<p role="alert">${view.message}</p>
<p><a href="/">Back to the site</a></p>
<p><small>Reference: ${view.requestId}</small></p>`);

export interface NotAllowedView {
  signedInAs: string;
  /** The proxy's sign_out endpoint: signing out is how to come back as another account. */
  signOutPath: string;
  /**
   * sign_out with `rd` back to this page: the session is forgotten and the page signs in again,
   * with the groups the provider has now (silently while the provider still knows the browser).
   * Omitted where the refusal came from a sign-in just made, whose groups are already current.
   */
  signInAgainPath?: string;
  /** A public part of the site to go back to; omitted where the whole site is closed to this account. */
  siteHome?: string;
}

/**
 * A signed-in account that the access rules refuse (--allowed-group, a prefix's groups, an email
 * rule). Not an error, so no reference number; and, like oauth2-proxy's plain "Forbidden", it never
 * names the rule or the groups that would be let in: who may see a section is not told to those
 * who may not.
 */
export const notAllowedPage = (view: NotAllowedView): Html => layout('Not available to this account', html`<h1>This page is not available to your account</h1>
<p role="alert">You are signed in as <strong>${view.signedInAs}</strong>, but this account does not have access here.</p>
${view.signInAgainPath ? html`<p>If you were given access just now, <a href="${view.signInAgainPath}">sign out and in again</a> to use it.</p>` : ''}
<p>To use another account, <a href="${view.signOutPath}">sign out</a>, then sign in with it. If this account should have access, ask the site's administrator.</p>
${view.siteHome ? html`<p><a href="${view.siteHome}">Back to the site</a></p>` : ''}`);
