import { html, type Html } from '../../html.ts';
import { layout } from '../../layout.ts';
import { errorSummary } from '../page-parts.ts';

// The frame of every admin page: the site layout, a section menu, and the copy-button script.

export type AdminSection = 'overview' | 'users' | 'groups' | 'clients' | 'api-keys' | 'audit' | 'settings';

export interface AdminFrame {
  appName: string;
  adminName: string;
  csrfToken: string;
  section: AdminSection;
}

const SECTIONS: [AdminSection, string, string][] = [
  ['overview', 'Overview', '/admin'],
  ['users', 'Users', '/admin/users'],
  ['groups', 'Groups', '/admin/groups'],
  ['clients', 'Apps (OIDC clients)', '/admin/clients'],
  ['api-keys', 'API keys', '/admin/api-keys'],
  ['audit', 'Audit log', '/admin/audit'],
  ['settings', 'Settings', '/admin/settings'],
];

export const adminPage = (frame: AdminFrame, title: string, body: Html): Html =>
  layout({ title, appName: frame.appName, signedInAs: frame.adminName, isAdmin: true, csrfToken: frame.csrfToken }, html`
<div class="admin">
<nav class="admin-nav" aria-label="Admin sections">
  <ul>${SECTIONS.map(([id, label, href]) => html`<li><a href="${href}"${id === frame.section ? html` aria-current="page"` : ''}>${label}</a></li>`)}</ul>
</nav>
${body}
</div>
<script type="module" src="/assets/admin.js"></script>`);

// Dates read the same in the console as on the account pages.
export { when } from '../page-parts.ts';

/** The hidden CSRF field every state-changing form carries. */
export const csrfField = (token: string) => html`<input type="hidden" name="csrf" value="${token}">`;

export interface InputOptions {
  name: string;
  label: string;
  value?: string;
  type?: 'text' | 'email' | 'url' | 'search';
  error?: string;
  hint?: string;
  required?: boolean;
  maxlength?: number;
  autocomplete?: string;
}

/** A labelled input; its error and hint are tied to it with aria-describedby. */
export function textInput(o: InputOptions): Html {
  const id = `f-${o.name}`;
  const described = [o.hint ? `${id}-hint` : '', o.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field">
  <label for="${id}">${o.label}${o.required ? '' : html` <span class="muted">(optional)</span>`}</label>
  ${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}
  <input id="${id}" name="${o.name}" type="${o.type ?? 'text'}" value="${o.value ?? ''}"${o.required ? html` required` : ''}${o.maxlength ? html` maxlength="${o.maxlength}"` : ''}${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}${described ? html` aria-describedby="${described}"` : ''}${o.error ? html` aria-invalid="true"` : ''}>
  ${o.error ? html`<p class="field-error" id="${id}-error">${o.error}</p>` : ''}
</div>`;
}

export function textArea(o: Omit<InputOptions, 'type'> & { rows?: number }): Html {
  const id = `f-${o.name}`;
  const described = [o.hint ? `${id}-hint` : '', o.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field">
  <label for="${id}">${o.label}${o.required ? '' : html` <span class="muted">(optional)</span>`}</label>
  ${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}
  <textarea id="${id}" name="${o.name}" rows="${o.rows ?? 3}"${o.required ? html` required` : ''}${described ? html` aria-describedby="${described}"` : ''}${o.error ? html` aria-invalid="true"` : ''}>${o.value ?? ''}</textarea>
  ${o.error ? html`<p class="field-error" id="${id}-error">${o.error}</p>` : ''}
</div>`;
}

export function checkbox(o: { name: string; label: string; checked: boolean; value?: string; id?: string; error?: string; hint?: string; required?: boolean }): Html {
  const id = o.id ?? `f-${o.name}`;
  const described = [o.hint ? `${id}-hint` : '', o.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field check">
  <input type="checkbox" id="${id}" name="${o.name}" value="${o.value ?? 'yes'}"${o.checked ? html` checked` : ''}${o.required ? html` required` : ''}${described ? html` aria-describedby="${described}"` : ''}${o.error ? html` aria-invalid="true"` : ''}>
  <label for="${id}">${o.label}</label>
  ${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}
  ${o.error ? html`<p class="field-error" id="${id}-error">${o.error}</p>` : ''}
</div>`;
}

/** A value to copy: shown in a <code> block, with a copy button that admin.js reveals. */
export function copyable(id: string, label: string, value: string, multiline = false): Html {
  return html`<div class="copy-field">
  <p class="copy-label" id="${id}-label">${label}</p>
  ${multiline ? html`<pre class="copy-value" id="${id}" aria-labelledby="${id}-label">${value}</pre>` : html`<code class="copy-value" id="${id}" aria-labelledby="${id}-label">${value}</code>`}
  <button type="button" class="copy" data-copy="${id}" hidden>Copy<span class="visually-hidden"> ${label}</span></button>
</div>`;
}

/**
 * The summary above a refused admin form (see errorSummary): `fieldOrder` lists the form's
 * fields top to bottom; a problem with a field not listed comes last.
 */
export function formErrors(lead: string, errors: Readonly<Record<string, string | undefined>>, fieldOrder: readonly string[]): Html | '' {
  const names = [...fieldOrder, ...Object.keys(errors).filter((name) => !fieldOrder.includes(name))];
  return errorSummary(lead, names.map((name) => [`f-${name}`, errors[name]] as const));
}

/** A status or error line above a form: role=status for success, role=alert for problems. */
export const notice = (text: string | null | undefined) => (text ? html`<p class="notice" role="status">${text}</p>` : '');
export const problem = (text: string | null | undefined) => (text ? html`<p class="alert" role="alert">${text}</p>` : '');
