// /account/recovery-codes: status and (re)generation; the new codes are shown once, on the
// response to the POST that made them, and never again.
import { html } from '../html.ts';
import { accountLayout, type AccountChrome } from './account-layout.ts';
import { csrfField, errorSummary, notice, when } from './page-parts.ts';

export interface RecoveryCodesView extends AccountChrome {
  unused: number;
  total: number;
  createdAt: number | null;
  /** The "my current codes will stop working" confirmation was missing. */
  confirmError?: string | null;
  notice?: string | null;
}

export const recoveryCodesPage = (v: RecoveryCodesView) => accountLayout(v, 'recovery', 'Recovery codes', html`
<section class="card" aria-labelledby="recovery-title">
  <h1 id="recovery-title">Recovery codes</h1>
  ${notice(v.notice)}
  <p>If you lose every passkey, a recovery code signs you in once, so you can add a new passkey without asking an admin.
     Keep them somewhere safe and apart from your devices: printed, or in a password manager.</p>
  ${v.total === 0 ? html`<p class="warning">You have no recovery codes yet.</p>`
    : html`<p class="${v.unused <= 2 ? 'warning' : ''}">You have <strong>${v.unused}</strong> unused ${v.unused === 1 ? 'code' : 'codes'} of ${v.total}, made ${when(v.createdAt)}.</p>`}
  <form method="post" action="/account/recovery-codes" novalidate>
    ${errorSummary('No new codes were made.', [['replace', v.confirmError]])}
    ${csrfField(v.csrfToken)}
    ${v.total > 0 ? html`<div class="field check">
      <input type="checkbox" id="replace" name="replace" value="yes" required${v.confirmError ? html` aria-invalid="true" aria-describedby="replace-error"` : ''}>
      <label for="replace">I understand that my current codes will stop working</label>
      ${v.confirmError ? html`<p class="field-error" id="replace-error">${v.confirmError}</p>` : ''}
    </div>` : ''}
    <button type="submit" class="primary">${v.total > 0 ? 'Make new codes' : 'Make recovery codes'}</button>
  </form>
</section>`);

export interface NewRecoveryCodesView extends AccountChrome {
  codes: string[];
}

export const newRecoveryCodesPage = (v: NewRecoveryCodesView) => accountLayout(v, 'recovery', 'Your new recovery codes', html`
<section class="card" aria-labelledby="codes-title">
  <h1 id="codes-title">Your new recovery codes</h1>
  <p class="warning"><strong>Save them now: this is the only time they are shown.</strong> Any older codes no longer work.</p>
  <ol class="codes" aria-label="Recovery codes">
    ${v.codes.map((code) => html`<li><code>${code}</code></li>`)}
  </ol>
  <p>Each code works once. To use one, choose “Use a recovery code” on the sign-in page.</p>
  <div class="actions no-print">
    <form method="post" action="/account/recovery-codes/download">
      ${csrfField(v.csrfToken)}
      <input type="hidden" name="codes" value="${v.codes.join(' ')}">
      <button type="submit">Download as a text file</button>
    </form>
    <a class="button primary" href="/account/recovery-codes">I have saved them</a>
  </div>
  <p class="hint no-print">To print them, use your browser’s Print command: only the codes are printed.</p>
</section>`);

/** The downloaded file: plain text, one code a line. */
export const recoveryCodesText = (appName: string, username: string, codes: readonly string[], madeAt: number) =>
  [`Recovery codes for ${username} at ${appName}`, `Made ${new Date(madeAt).toISOString()}. Each code works once.`, '', ...codes, ''].join('\n');
