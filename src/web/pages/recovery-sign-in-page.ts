// /login/recovery: sign in with a username (or email) and one recovery code.
import { html } from '../html.ts';
import { layout } from '../layout.ts';
import { csrfField, errorSummary, field } from './page-parts.ts';

export interface RecoverySignInView {
  appName: string;
  csrfToken: string;
  login?: string;
  /** Refusal of the whole attempt (wrong pair, too many attempts): never says which part was wrong. Focused, as the error summary is. */
  error?: string | null;
  fieldErrors?: { login?: string; code?: string };
}

export const recoverySignInPage = (v: RecoverySignInView) => layout({ title: 'Use a recovery code', appName: v.appName, csrfToken: v.csrfToken }, html`
<section class="card auth" aria-labelledby="recovery-title">
  <h1 id="recovery-title">Use a recovery code</h1>
  <p>Lost your passkeys? Enter your username or email and one of the recovery codes you saved. Each code works once;
     afterwards you will be asked to add a passkey.</p>
  ${v.error ? html`<p role="alert" class="alert" tabindex="-1" autofocus>${v.error}</p>` : ''}
  <form method="post" action="/login/recovery" novalidate>
    ${errorSummary('You are not signed in yet; fix these and send again.', [['login', v.fieldErrors?.login], ['code', v.fieldErrors?.code]])}
    ${csrfField(v.csrfToken)}
    ${field({ name: 'login', label: 'Username or email', value: v.login, error: v.fieldErrors?.login, required: true, autocomplete: 'username', maxlength: 254,
      extra: html`autocapitalize="none" spellcheck="false"` })}
    ${field({ name: 'code', label: 'Recovery code', error: v.fieldErrors?.code, required: true, autocomplete: 'one-time-code', maxlength: 40,
      hint: 'Like 7k3m-q9xd-2hfp. Dashes and capitals do not matter.', extra: html`autocapitalize="none" spellcheck="false" class="mono"` })}
    <button type="submit" class="primary wide">Sign in</button>
  </form>
  <p class="hint">No codes either? Ask an admin for a one-time sign-in link.</p>
  <p><a href="/login">Back to passkey sign-in</a></p>
</section>`);
