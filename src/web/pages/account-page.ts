// /account: the user's passkeys. Add another device (the passkey script), rename, delete.
import { html } from '../html.ts';
import { accountLayout, type AccountChrome } from './account-layout.ts';
import { csrfField, errorSummary, notice, when } from './page-parts.ts';

export interface PasskeyListItem {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** The passkey can be synced by its provider (WebAuthn BE flag). */
  backupEligible: boolean;
  /** It is synced or backed up now (BS flag, as of its last use). */
  backupState: boolean;
}

export interface AccountView extends AccountChrome {
  passkeys: PasskeyListItem[];
  unusedRecoveryCodes: number;
  /** Shown after a setup or one-time link: the user still needs a passkey here. */
  welcome?: boolean;
  /** After a recovery-code sign-in: how many codes are left. */
  recovered?: { remaining: number } | null;
  notice?: string | null;
  /** A rename that was refused, to show again with its error. */
  rename?: { passkeyId: string; value: string; error: string } | null;
}

const syncState = (p: PasskeyListItem) =>
  p.backupState ? html`<span class="badge ok">Synced</span> <span class="muted">backed up by your passkey provider</span>`
    : p.backupEligible ? html`<span class="badge">Not backed up yet</span>`
      : html`<span class="badge">This device only</span> <span class="muted">not backed up: gone if that device is lost</span>`;

function passkeyItem(v: AccountView, p: PasskeyListItem, index: number) {
  const renaming = v.rename?.passkeyId === p.id ? v.rename : null;
  const inputId = `rename-${index}`;
  return html`<li class="item">
    <div class="item-main">
      <h2 class="item-title">${p.name}</h2>
      <dl class="facts">
        <div><dt>Added</dt><dd>${when(p.createdAt)}</dd></div>
        <div><dt>Last used</dt><dd>${when(p.lastUsedAt)}</dd></div>
        <div><dt>Backup</dt><dd>${syncState(p)}</dd></div>
      </dl>
    </div>
    <div class="item-actions">
      <details${renaming ? html` open` : ''}>
        <summary>Rename<span class="visually-hidden"> ${p.name}</span></summary>
        <form method="post" action="/account/passkeys/rename" class="rename">
          ${renaming ? errorSummary('The name was not saved.', [[inputId, renaming.error]]) : ''}
          ${csrfField(v.csrfToken)}
          <input type="hidden" name="id" value="${p.id}">
          <label for="${inputId}">New name for “${p.name}”</label>
          <input id="${inputId}" name="name" type="text" maxlength="64" required value="${renaming ? renaming.value : p.name}"${renaming ? html` aria-invalid="true" aria-describedby="${inputId}-error"` : ''}>
          ${renaming ? html`<p class="field-error" id="${inputId}-error">${renaming.error}</p>` : ''}
          <button type="submit">Save name</button>
        </form>
      </details>
      <a class="button danger-outline" href="/account/passkeys/delete?id=${encodeURIComponent(p.id)}">Delete<span class="visually-hidden"> ${p.name}</span></a>
    </div>
  </li>`;
}

// The way on to the site (chrome.siteUrl) only with a passkey to come back with, in the header too.
export const accountPage = (v: AccountView) => accountLayout({ ...v, siteUrl: v.passkeys.length ? v.siteUrl : null }, 'passkeys', 'Your passkeys', html`
<section class="card" aria-labelledby="passkeys-title">
  <h1 id="passkeys-title">${v.welcome ? html`Welcome, ${v.displayName}` : 'Your passkeys'}</h1>
  ${notice(v.notice)}
  ${v.recovered ? html`<div class="notice" role="status">
    <p><strong>You signed in with a recovery code.</strong> That code no longer works; you have ${v.recovered.remaining} left.</p>
    <p>Add a passkey for this device now, so you do not need another code next time.${v.recovered.remaining <= 2 ? html` Then <a href="/account/recovery-codes">make a new set of recovery codes</a>.` : ''}</p>
  </div>` : ''}
  ${v.passkeys.length === 0 ? html`<p class="alert">You have no passkey yet. Add one now, or you will not be able to sign in again${v.unusedRecoveryCodes ? ' without a recovery code' : ''}.</p>` : ''}
  ${v.passkeys.length === 1 ? html`<p class="warning">You have only one passkey. If you lose that device you are locked out: add a second one (another phone, laptop or security key)${v.unusedRecoveryCodes ? '' : html`, or <a href="/account/recovery-codes">create recovery codes</a>`}.</p>` : ''}
  ${v.passkeys.length ? html`<ul class="items" aria-label="Passkeys">${v.passkeys.map((p, i) => passkeyItem(v, p, i))}</ul>` : ''}
  ${v.siteUrl && v.passkeys.length ? html`<p><a class="button primary" href="${v.siteUrl}">Go to the site</a></p>` : ''}
</section>
<section class="card" id="add-passkey" aria-labelledby="add-title">
  <h2 id="add-title">Add a passkey</h2>
  <p>Use this device, or choose “another device” in the browser’s prompt to use a phone or a security key.</p>
  <p role="alert" id="passkey-message" class="alert" hidden></p>
  <div class="field">
    <label for="passkey-name">Name for the new passkey <span class="muted">(optional)</span></label>
    <input id="passkey-name" name="passkey-name" type="text" maxlength="64" placeholder="e.g. Phone" autocomplete="off">
  </div>
  <button type="button" class="primary" data-passkey-register data-passkey-name-input="passkey-name" data-next="/account?added=1">Add a passkey</button>
  <noscript><p class="alert">Adding a passkey needs JavaScript: the browser’s passkey prompt can only be opened by a script.</p></noscript>
</section>`, { passkeyScript: true });
