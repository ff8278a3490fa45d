import { html, raw, type Html } from '../web/html.ts';
import { layout } from '../web/layout.ts';
import type { OversizedRequest } from './authorization-size.ts';

// Pages the provider itself shows. They use the shared layout and stylesheet: the
// Content-Security-Policy (style-src 'self') blocks inline style. The app name (admin settings)
// is passed where the caller has it, for the header and the title.
export const oidcPage = (view: { title: string; body: Html; appName?: string }): Html =>
  layout({ title: view.title, appName: view.appName }, view.body);

export const messagePage = (view: { title: string; message: string; code?: string; hint?: string; appName?: string }): Html => oidcPage({
  title: view.title,
  appName: view.appName,
  body: html`<section class="card"><h1>${view.title}</h1><p role="alert">${view.message}</p>
    ${view.hint ? html`<p>${view.hint}</p>` : ''}
    ${view.code ? html`<p class="muted">Error code: <code>${view.code}</code></p>` : ''}</section>`,
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
export const logoutConfirmPage = (view: { host: string; form: string; appName?: string }): Html => oidcPage({
  title: 'Sign out',
  appName: view.appName,
  // the app's name, not the provider's host name, which means nothing to someone leaving a site
  body: html`<section class="card"><h1>Sign out of ${view.appName ?? view.host}?</h1>${raw(view.form)}
    <div class="actions"><button autofocus type="submit" form="op.logoutForm" value="yes" name="logout" class="primary">Yes, sign me out</button>
    <button type="submit" form="op.logoutForm">No, stay signed in</button></div></section>`,
});

export const loggedOutPage = (view: { clientName: string | null; appName?: string }): Html => messagePage({
  title: 'Signed out',
  appName: view.appName,
  message: view.clientName ? `You have signed out of ${view.clientName}.` : 'You have signed out.',
});

// A parameter's name comes from the request: shown escaped (html``), and only its start.
const shownName = (name: string): string => (name.length > 40 ? `${name.slice(0, 40)}…` : name);

/** An authorization request refused for its size (authorization-size.ts), before the provider saw it. */
export const oversizedRequestPage = (view: { oversized: OversizedRequest; appName?: string }): Html => {
  const { oversized } = view;
  return messagePage({
    title: 'Sign-in request too long',
    appName: view.appName,
    message: oversized.kind === 'parameter'
      ? `The application's sign-in request has a parameter "${shownName(oversized.parameter)}" of ${oversized.chars.toLocaleString('en')} characters; this identity provider accepts at most ${oversized.maxChars.toLocaleString('en')}.`
      : `The application's sign-in request is ${oversized.bytes.toLocaleString('en')} bytes long; this identity provider accepts at most ${oversized.maxBytes.toLocaleString('en')}.`,
    hint: 'Go back to the application and sign in from its start page; if it keeps happening, the application sends more than a sign-in needs.',
    code: 'invalid_request',
  });
};

/** Over AUTHORIZE_REQUESTS_PER_MINUTE (authorization-rate-limit.ts): refused before the provider saw it. */
export const tooManySignInRequestsPage = (view: { appName?: string }): Html => messagePage({
  title: 'Too many sign-in requests',
  appName: view.appName,
  message: 'More sign-in requests came from your network in the last minute than this identity provider accepts, so this one was not started.',
  hint: 'Wait a minute, then go back to the application and sign in again.',
  code: 'too_many_requests',
});
