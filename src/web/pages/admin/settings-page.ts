import type { FieldErrors } from '../../form.ts';
import { html } from '../../html.ts';
import { adminPage, csrfField, formErrors, notice, textInput, type AdminFrame } from './admin-layout.ts';

export interface SettingRow {
  label: string;
  value: string;
  /** The environment variable that sets it. */
  env: string;
  note?: string;
}

export interface SettingsView {
  frame: AdminFrame;
  /** What the form shows: the saved values, or what was typed when it was refused. */
  values: { appName: string; sessionDuration: string };
  errors: FieldErrors;
  notice?: string | null;
  /** The settings that only the server's configuration sets. */
  fixed: SettingRow[];
}

export const settingsPage = (v: SettingsView) => adminPage(v.frame, 'Settings', html`
<section class="card">
  <h1>Settings</h1>
  ${notice(v.notice)}
  <h2>Application configuration</h2>
  <p>Saved here for every instance; <code>APP_NAME</code> and <code>SESSION_DURATION</code> only give the values used until you save.</p>
  <form method="post" action="/admin/settings" novalidate>
    ${formErrors('The settings were not saved; see below.', v.errors, ['appName', 'sessionDuration'])}
    ${csrfField(v.frame.csrfToken)}
    ${textInput({ name: 'appName', label: 'Application name', value: v.values.appName, required: true, maxlength: 50, error: v.errors.appName, hint: 'Shown in page titles and headers.' })}
    ${textInput({ name: 'sessionDuration', label: 'Session duration', value: v.values.sessionDuration, required: true, maxlength: 20, error: v.errors.sessionDuration, hint: 'How long a sign-in lasts before a passkey is needed again, such as 720h (30 days); from 5m to 8760h.' })}
    <p class="muted">Changes apply to new sign-ins, here and in apps (other instances within 30 seconds). A shorter duration also ends apps' sign-ins older than it: they can no longer renew them. The passkey prompt's name changes after a restart.</p>
    <button type="submit" class="primary">Save settings</button>
  </form>
</section>
<section class="card">
  <h2>Server configuration</h2>
  <p>These come from the server's environment variables, so that every instance and every restart agrees. To change one, set the variable and restart latchkey (<code>latchkey id</code> or <code>latchkey serve</code>).</p>
  <table class="stack">
    <thead><tr><th scope="col">Setting</th><th scope="col">Current value</th><th scope="col">Change it with</th></tr></thead>
    <tbody>${v.fixed.map((s) => html`<tr>
      <th scope="row" data-label="Setting">${s.label}</th>
      <td data-label="Current value"><div>${s.value}${s.note ? html`<br><span class="muted">${s.note}</span>` : ''}</div></td>
      <td data-label="Change it with"><code>${s.env}</code></td>
    </tr>`)}</tbody>
  </table>
</section>`);
