import { html, type Html } from '../html.ts';
import { layout } from '../layout.ts';

export interface SignInView {
  appName: string;
  /** The application asking, when the sign-in is part of an OIDC authorization. */
  clientName?: string | null;
  error?: string | null;
  csrfToken: string;
  /** An app asked for a new sign-in although this browser is signed in (OIDC prompt=login, max_age). */
  again?: boolean;
  /** After "Sign out here": the apps that could not be told of it (sign-out-gaps.ts). */
  notice?: Html | '';
}

export const signInPage = (v: SignInView) => layout({ title: 'Sign in', appName: v.appName, passkeyScript: true, csrfToken: v.csrfToken }, html`
<section class="card auth" aria-labelledby="signin-title">
  <h1 id="signin-title">Sign in to ${v.appName}</h1>
  ${v.notice ?? ''}
  ${v.clientName ? html`<p><strong>${v.clientName}</strong> asks you to sign in.</p>` : ''}
  ${v.again ? html`<p>You are signed in, but the app you came from asks you to confirm it is you: use your passkey once more.</p>` : ''}
  <p>Use the passkey on this device, your phone or a security key. There is no password.</p>
  <p role="alert" id="passkey-message" class="alert"${v.error ? '' : html` hidden`}>${v.error ?? ''}</p>
  <button type="button" class="primary wide" data-passkey-login>Sign in with a passkey</button>
  <noscript><p class="alert">Passkey sign-in needs JavaScript. Without it you can still use a recovery code.</p></noscript>
  <div class="aside">
    <p><strong>Lost your passkey?</strong></p>
    <p><a href="/login/recovery">Use a recovery code</a>, or ask an admin for a one-time sign-in link.</p>
  </div>
</section>`);
