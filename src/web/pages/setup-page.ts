import { html } from '../html.ts';
import { layout } from '../layout.ts';
import { errorSummary } from './page-parts.ts';

export interface SetupView {
  appName: string;
  token: string;
  values?: { username?: string; email?: string; firstName?: string; lastName?: string };
  fieldErrors?: Record<string, string>;
  error?: string | null;
  csrfToken: string;
}

const field = (v: SetupView, name: 'username' | 'email' | 'firstName' | 'lastName', label: string, attrs: { type?: string; required?: boolean; autocomplete?: string }) => {
  const error = v.fieldErrors?.[name];
  return html`<div class="field">
    <label for="${name}">${label}${attrs.required ? '' : html` <span class="muted">(optional)</span>`}</label>
    <input id="${name}" name="${name}" type="${attrs.type ?? 'text'}" value="${v.values?.[name] ?? ''}" autocomplete="${attrs.autocomplete ?? 'off'}"
      ${attrs.required ? html`required` : ''} ${error ? html`aria-invalid="true" aria-describedby="${name}-error"` : ''}>
    ${error ? html`<p class="field-error" id="${name}-error">${error}</p>` : ''}
  </div>`;
};

export const setupPage = (v: SetupView) => layout({ title: 'Set up', appName: v.appName, csrfToken: v.csrfToken }, html`
<section class="card auth">
  <h1>Welcome to ${v.appName}</h1>
  <p>You are creating the first administrator. Next you will register a passkey for this account.</p>
  ${v.error ? html`<p role="alert" class="alert">${v.error}</p>` : ''}
  <form method="post" action="/setup">
    ${errorSummary('The administrator was not created yet; fix these and send again.', (['username', 'email', 'firstName', 'lastName'] as const).map((name) => [name, v.fieldErrors?.[name]] as const))}
    <input type="hidden" name="token" value="${v.token}">
    <input type="hidden" name="csrf" value="${v.csrfToken}">
    ${field(v, 'username', 'Username', { required: true, autocomplete: 'username' })}
    ${field(v, 'email', 'Email', { type: 'email', autocomplete: 'email' })}
    ${field(v, 'firstName', 'First name', { autocomplete: 'given-name' })}
    ${field(v, 'lastName', 'Last name', { autocomplete: 'family-name' })}
    <button type="submit" class="primary wide">Create administrator</button>
  </form>
</section>`);
