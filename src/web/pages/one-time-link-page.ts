import { html } from '../html.ts';
import { layout } from '../layout.ts';

// GET shows this page and POST uses the link: mail scanners and chat previews fetch links with
// GET, and must not burn a single-use link before its owner clicks it.
export const oneTimeLinkPage = (v: { appName: string; token: string; csrfToken: string; valid: boolean }) =>
  layout({ title: 'Sign-in link', appName: v.appName, csrfToken: v.csrfToken }, v.valid ? html`
<section class="card auth">
  <h1>Sign in to ${v.appName}</h1>
  <p>This link signs you in once. Afterwards you will be asked to register a passkey on this device.</p>
  <form method="post" action="/link">
    <input type="hidden" name="token" value="${v.token}">
    <input type="hidden" name="csrf" value="${v.csrfToken}">
    <button type="submit" class="primary wide">Continue</button>
  </form>
</section>` : html`
<section class="card auth">
  <h1>This link no longer works</h1>
  <p role="alert" class="alert">It has expired or was already used. Ask an admin for a new sign-in link.</p>
</section>`);
