import { html } from '../../html.ts';
import { adminPage, type AdminFrame } from './admin-layout.ts';

export interface SettingRow {
  label: string;
  value: string;
  /** The environment variable that sets it. */
  env: string;
  note?: string;
}

export const settingsPage = (v: { frame: AdminFrame; settings: SettingRow[] }) => adminPage(v.frame, 'Settings', html`
<section class="card">
  <h1>Settings</h1>
  <p>These come from the server's configuration (environment variables, as with Pocket ID), so that every instance and every restart agrees. To change one, set the variable and restart <code>latchkey id</code>.</p>
  <table class="stack">
    <thead><tr><th scope="col">Setting</th><th scope="col">Current value</th><th scope="col">Change it with</th></tr></thead>
    <tbody>${v.settings.map((s) => html`<tr>
      <th scope="row" data-label="Setting">${s.label}</th>
      <td data-label="Current value">${s.value}${s.note ? html`<br><span class="muted">${s.note}</span>` : ''}</td>
      <td data-label="Change it with"><code>${s.env}</code></td>
    </tr>`)}</tbody>
  </table>
</section>`);
