import { html } from '../html.ts';
import { layout } from '../layout.ts';

export interface PasskeyListItem {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

const when = (ms: number | null) => (ms ? new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : 'never');

export interface AccountView {
  appName: string;
  displayName: string;
  isAdmin: boolean;
  passkeys: PasskeyListItem[];
  csrfToken: string;
  /** Shown after a setup or one-time link: the user still needs a passkey here. */
  welcome?: boolean;
  notice?: string | null;
}

export const accountPage = (v: AccountView) => layout({ title: 'Your account', appName: v.appName, passkeyScript: true, signedInAs: v.displayName, isAdmin: v.isAdmin, csrfToken: v.csrfToken }, html`
<section class="card">
  <h1>${v.welcome ? html`Welcome, ${v.displayName}` : 'Your passkeys'}</h1>
  ${v.notice ? html`<p class="notice" role="status">${v.notice}</p>` : ''}
  ${v.passkeys.length === 0 ? html`<p class="alert">You have no passkey yet. Register one now, or you will not be able to sign in again.</p>` : ''}
  ${v.passkeys.length === 1 ? html`<p class="warning">You have only one passkey. If you lose that device you are locked out: add a second one (another phone, laptop or security key).</p>` : ''}
  <ul class="passkeys">
  ${v.passkeys.map((p) => html`<li><strong>${p.name}</strong> <span class="muted">added ${when(p.createdAt)}, last used ${when(p.lastUsedAt)}</span></li>`)}
  </ul>
  <p role="alert" id="passkey-message" class="alert" hidden></p>
  <div class="field">
    <label for="passkey-name">Name for the new passkey <span class="muted">(optional)</span></label>
    <input id="passkey-name" name="passkey-name" type="text" maxlength="60" placeholder="e.g. Phone">
  </div>
  <button type="button" class="primary" data-passkey-register data-passkey-name-input="passkey-name" data-next="/account?added=1">Add a passkey</button>
</section>`);
