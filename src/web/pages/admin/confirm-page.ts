import { html } from '../../html.ts';
import { adminPage, checkbox, csrfField, problem, type AdminFrame } from './admin-layout.ts';

// Every destructive action goes through a page like this: it says what will happen, and the form
// needs a ticked box, so neither a stray click nor a missing script deletes anything.

export interface ConfirmView {
  frame: AdminFrame;
  title: string;
  /** What will happen, one sentence each. */
  consequences: string[];
  action: string;
  confirmLabel: string;
  buttonLabel: string;
  cancelHref: string;
  /** When set, the action is not possible; the page says why and shows no form. */
  refusal?: string | null;
  /** The box was not ticked on a previous try. */
  confirmError?: string | null;
}

export const confirmPage = (v: ConfirmView) => adminPage(v.frame, v.title, html`
<section class="card">
  <h1>${v.title}</h1>
  ${v.refusal ? html`${problem(v.refusal)}
  <p><a href="${v.cancelHref}">Back</a></p>` : html`
  <p>What will happen:</p>
  <ul class="consequences">${v.consequences.map((c) => html`<li>${c}</li>`)}</ul>
  <form method="post" action="${v.action}">
    ${csrfField(v.frame.csrfToken)}
    ${checkbox({ name: 'confirm', label: v.confirmLabel, checked: false, required: true, error: v.confirmError ?? undefined })}
    <div class="actions">
      <button type="submit" class="danger">${v.buttonLabel}</button>
      <a href="${v.cancelHref}">Cancel</a>
    </div>
  </form>`}
</section>`);
