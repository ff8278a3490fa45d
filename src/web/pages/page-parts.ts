// Small pieces shared by the sign-in and account pages, so they look and behave alike.
import { html, type Html } from '../html.ts';

// Made on first use, not when the module loads: the first Intl object reads ICU's locale data,
// ~6 MB of the Node binary's pages that a process which never draws a date need not touch
// (docs/benchmarks.md, "Memory").
let dateTime: Intl.DateTimeFormat | undefined;

/** A point in time for people ("3 May 2025, 14:05 UTC"), machine-readable in `datetime`. */
export const when = (ms: number | null | undefined, never = 'never'): Html | string => {
  if (!ms) return never;
  dateTime ??= new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  return html`<time datetime="${new Date(ms).toISOString()}">${dateTime.format(ms)} UTC</time>`;
};

export const csrfField = (token: string) => html`<input type="hidden" name="csrf" value="${token}">`;

export interface FieldOptions {
  name: string;
  label: string;
  value?: string;
  error?: string | null;
  type?: string;
  required?: boolean;
  autocomplete?: string;
  hint?: string;
  maxlength?: number;
  /** Extra attributes for one-off needs (inputmode, autocapitalize): trusted markup only. */
  extra?: Html;
  id?: string;
}

/** A labelled input with its hint and its error right below it, both tied to it for screen readers. */
export function field(o: FieldOptions): Html {
  const id = o.id ?? o.name;
  const described = [o.hint ? `${id}-hint` : '', o.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field">
    <label for="${id}">${o.label}${o.required ? '' : html` <span class="muted">(optional)</span>`}</label>
    ${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}
    <input id="${id}" name="${o.name}" type="${o.type ?? 'text'}" value="${o.value ?? ''}" autocomplete="${o.autocomplete ?? 'off'}"${o.maxlength ? html` maxlength="${o.maxlength}"` : ''}${o.required ? html` required` : ''}${o.error ? html` aria-invalid="true"` : ''}${described ? html` aria-describedby="${described}"` : ''}${o.extra ? html` ${o.extra}` : ''}>
    ${o.error ? html`<p class="field-error" id="${id}-error">${o.error}</p>` : ''}
  </div>`;
}

export const notice = (text: string | null | undefined) => (text ? html`<p class="notice" role="status">${text}</p>` : '');

/** One problem of a refused form: the id of the field it is about, and what to fix there. */
export type FormProblem = readonly [fieldId: string, message: string | null | undefined];

/**
 * The top of a form the server sent back refused: says so, and links each problem (in form
 * order) to its field. It takes focus on load (autofocus, so no script is needed), which makes a
 * screen reader read it out rather than start at the page top; `role=alert` says what it is.
 */
export function errorSummary(lead: string, problems: readonly FormProblem[]): Html | '' {
  const shown = problems.filter(([, message]) => message);
  if (!shown.length) return '';
  return html`<div class="alert error-summary" role="alert" tabindex="-1" autofocus>
    <p><strong>${lead}</strong></p>
    <ul>${shown.map(([id, message]) => html`<li><a href="#${id}">${message}</a></li>`)}</ul>
  </div>`;
}
