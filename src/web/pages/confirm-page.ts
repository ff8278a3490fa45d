// "Are you sure?" for destructive actions: says what will happen, then one button does it and one
// link goes back. A page, not a dialog, so it works without JavaScript.
import { html, type Html } from '../html.ts';
import { accountLayout, type AccountChrome, type AccountSection } from './account-layout.ts';
import { csrfField } from './page-parts.ts';

export interface ConfirmView {
  chrome: AccountChrome;
  section: AccountSection;
  title: string;
  /** What will happen, in plain words. */
  consequences: Html;
  /** Where the form posts; null when the action is refused (then `refusal` says why). */
  action: string | null;
  /** Hidden fields the form sends along (what to act on). */
  fields?: Record<string, string>;
  confirmLabel: string;
  cancelHref: string;
  refusal?: string | null;
}

export const confirmPage = (v: ConfirmView) => accountLayout(v.chrome, v.section, v.title, html`
<section class="card" aria-labelledby="confirm-title">
  <h1 id="confirm-title">${v.title}</h1>
  ${v.consequences}
  ${v.refusal ? html`<p class="alert" role="alert">${v.refusal}</p>` : ''}
  <div class="actions">
    ${v.action ? html`<form method="post" action="${v.action}">${csrfField(v.chrome.csrfToken)}${Object.entries(v.fields ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}<button type="submit" class="danger">${v.confirmLabel}</button></form>` : ''}
    <a class="button" href="${v.cancelHref}">${v.action ? 'Cancel' : 'Back'}</a>
  </div>
</section>`);
