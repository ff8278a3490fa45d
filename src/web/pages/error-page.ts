import { html } from '../html.ts';
import { layout } from '../layout.ts';

/** `appName` is read per page, so a name an admin changes in the settings shows here too. */
export const errorPage = (appName: () => string) => (v: { status: number; title: string; message: string; requestId: string; back?: string }) =>
  layout({ title: v.title, appName: appName() }, html`
<section class="card">
  <h1>${v.title}</h1>
  <p role="alert">${v.message}</p>
  <p class="muted">Reference: <code>${v.requestId}</code></p>
  <p>${v.back ? html`<a href="${v.back}">Go back to the form</a>` : html`<a href="/">Back to the start</a>`}</p>
</section>`);
