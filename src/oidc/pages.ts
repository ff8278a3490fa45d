import { html, raw, type Html } from '../web/html.ts';

// Pages the provider itself shows. Kept plain and self-contained (no external fonts or scripts),
// so they render under a strict Content-Security-Policy.
const STYLE = raw(`body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
h1{font-size:1.4rem}code{background:#f2f2f2;padding:0 .25rem}button{font:inherit;padding:.5rem 1rem;margin-right:.5rem;cursor:pointer}
.muted{color:#666;font-size:.9rem}`);

export const oidcPage = (view: { title: string; body: Html }): Html => html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${view.title}</title><style>${STYLE}</style></head>
<body><main>${view.body}</main></body></html>`;

export const messagePage = (view: { title: string; message: string; code?: string; hint?: string }): Html => oidcPage({
  title: view.title,
  body: html`<h1>${view.title}</h1><p role="alert">${view.message}</p>
    ${view.hint ? html`<p>${view.hint}</p>` : ''}
    ${view.code ? html`<p class="muted">Error code: <code>${view.code}</code></p>` : ''}`,
});

/**
 * The user reached an application they may not use, or their account is disabled. A page, not a
 * redirect: sending them back to the application would only start the same sign-in again.
 */
export const accessRefusedPage = (view: { clientName: string; message: string }): Html => messagePage({
  title: `You cannot sign in to ${view.clientName}`,
  message: view.message,
  code: 'access_denied',
});

/** oidc-provider's RP-initiated logout confirmation; `form` is its own hidden form (xsrf token). */
export const logoutConfirmPage = (view: { host: string; form: string }): Html => oidcPage({
  title: 'Sign out',
  body: html`<h1>Sign out of ${view.host}?</h1>${raw(view.form)}
    <p><button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
    <button type="submit" form="op.logoutForm">No, stay signed in</button></p>`,
});

export const loggedOutPage = (view: { clientName: string | null }): Html => messagePage({
  title: 'Signed out',
  message: view.clientName ? `You have signed out of ${view.clientName}.` : 'You have signed out.',
});
