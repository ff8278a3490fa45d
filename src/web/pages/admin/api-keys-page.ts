import { html } from '../../html.ts';
import type { FieldErrors } from '../../form.ts';
import { adminPage, copyable, csrfField, formErrors, notice, problem, textInput, when, type AdminFrame } from './admin-layout.ts';

export interface ApiKeysView {
  frame: AdminFrame;
  keys: { id: string; name: string; createdAt: number; expiresAt: number | null; lastUsedAt: number | null; createdBy: string | null;
    /** Why the key is refused (identity/api-keys.ts, the rule verify() applies), or null while it works. */
    refusal: 'expired' | 'creator_not_active_admin' | null }[];
  /** The new key, on the one visit after it was made. */
  created: { name: string; key: string } | null;
  alreadyShown: boolean;
  values: { name: string; expiresInDays: string };
  errors: FieldErrors;
  notice?: string | null;
}

const EXPIRY: [string, string][] = [['30', '30 days'], ['90', '90 days'], ['365', '1 year'], ['', 'Never']];

export const apiKeysPage = (v: ApiKeysView) => adminPage(v.frame, 'API keys', html`
${v.created ? html`<section class="card reveal" aria-labelledby="new-key-heading">
  <h1 id="new-key-heading">API key “${v.created.name}” created</h1>
  <p class="warning">Copy it now: it is shown only this once. latchkey keeps only a hash of it.</p>
  ${copyable('new-api-key', 'API key (send it in the X-API-KEY header)', v.created.key)}
</section>` : ''}
<section class="card">
  <h${v.created ? '2' : '1'}>API keys</h${v.created ? '2' : '1'}>
  ${notice(v.notice)}
  ${v.alreadyShown ? problem('That key was shown once and is not shown again. If it was lost, revoke it and create a new one.') : ''}
  <p>Scripts use an API key to call the admin API (<code>/api/users</code>, <code>/api/oidc/clients</code> …) in the <code>X-API-KEY</code> header, as with Pocket ID. A key acts for the admin who created it, and works only until it expires and while they are an active admin.</p>
  ${v.keys.length === 0 ? html`<p>No API keys.</p>` : html`
  <table class="stack">
    <thead><tr><th scope="col">Name</th><th scope="col">Created by</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${v.keys.map((k) => html`<tr>
      <th scope="row" data-label="Name">${k.name}</th>
      <td data-label="Created by">${k.createdBy ?? 'the command line'}${k.refusal === 'creator_not_active_admin' ? html` <strong class="warning">refused: ${k.createdBy ?? 'its creator'} is no longer an active admin</strong>` : ''}</td>
      <td data-label="Created">${when(k.createdAt)}</td>
      <td data-label="Expires">${when(k.expiresAt)}${k.refusal === 'expired' ? html` <strong class="warning">expired: refused</strong>` : ''}</td>
      <td data-label="Last used">${when(k.lastUsedAt)}</td>
      <td data-label="Actions"><a href="/admin/api-keys/${k.id}/revoke">Revoke<span class="visually-hidden"> ${k.name}</span>…</a></td>
    </tr>`)}</tbody>
  </table>`}
</section>
<section class="card">
  <h2>Create an API key</h2>
  <form method="post" action="/admin/api-keys" novalidate>
    ${formErrors('The API key was not created; see below.', v.errors, ['name'])}
    ${csrfField(v.frame.csrfToken)}
    ${textInput({ name: 'name', label: 'Name', value: v.values.name, required: true, maxlength: 100, error: v.errors.name, hint: 'What uses it, e.g. “backup script”.' })}
    <div class="field">
      <label for="f-expires">Expires after</label>
      <select id="f-expires" name="expiresInDays">${EXPIRY.map(([value, label]) => html`<option value="${value}"${value === v.values.expiresInDays ? html` selected` : ''}>${label}</option>`)}</select>
    </div>
    <button type="submit" class="primary">Create API key</button>
  </form>
</section>`);
