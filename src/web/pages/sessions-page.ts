// /account/sessions: where the user is signed in (web sessions of this server) and which apps
// they have signed in to through it, with a way to end one session or all of them.
import { html } from '../html.ts';
import { accountLayout, type AccountChrome } from './account-layout.ts';
import { csrfField, notice, when } from './page-parts.ts';
import type { SignOutGapsView } from '../../oidc/untold-apps.ts';
import { signOutGapsNotice } from './sign-out-gaps.ts';

export interface SessionItem {
  id: string;
  device: string;
  userAgent: string | null;
  ip: string | null;
  createdAt: number;
  lastSeenAt: number;
  current: boolean;
}

export interface AppItem {
  clientId: string;
  name: string;
  lastSignInAt: number | null;
}

export interface SessionsView extends AccountChrome {
  sessions: SessionItem[];
  apps: AppItem[];
  notice?: string | null;
  /** The apps the sign-out just made could not tell (untold-apps.ts). */
  signOutGaps?: SignOutGapsView;
}

const sessionItem = (v: SessionsView, s: SessionItem) => html`<li class="item">
  <div class="item-main">
    <h2 class="item-title">${s.device}${s.current ? html` <span class="badge ok">This device</span>` : ''}</h2>
    <dl class="facts">
      <div><dt>Last seen</dt><dd>${when(s.lastSeenAt)}</dd></div>
      <div><dt>Signed in</dt><dd>${when(s.createdAt)}</dd></div>
      <div><dt>IP address</dt><dd>${s.ip ?? 'unknown'}</dd></div>
    </dl>
    ${s.userAgent ? html`<p class="hint ua">${s.userAgent}</p>` : ''}
  </div>
  <div class="item-actions">
    ${s.current
      ? html`<form method="post" action="/logout">${csrfField(v.csrfToken)}<button type="submit">Sign out here</button></form>`
      : html`<a class="button danger-outline" href="/account/sessions/${s.id}/end">End<span class="visually-hidden"> session of ${s.device}</span></a>`}
  </div>
</li>`;

export const sessionsPage = (v: SessionsView) => accountLayout(v, 'sessions', 'Sessions and apps', html`
<section class="card" aria-labelledby="sessions-title">
  <h1 id="sessions-title">Where you are signed in</h1>
  ${notice(v.notice)}
  ${signOutGapsNotice(v.signOutGaps, 'self')}
  <ul class="items" aria-label="Sessions">${v.sessions.map((s) => sessionItem(v, s))}</ul>
</section>
<section class="card" aria-labelledby="apps-title">
  <h2 id="apps-title">Apps you signed in to</h2>
  ${v.apps.length === 0 ? html`<p class="muted">You are not signed in to any app through ${v.appName} at the moment.</p>`
    : html`<ul class="items" aria-label="Apps">${v.apps.map((a) => html`<li class="item"><div class="item-main">
        <h3 class="item-title">${a.name}</h3>
        <dl class="facts"><div><dt>Last sign-in</dt><dd>${when(a.lastSignInAt, 'unknown')}</dd></div></dl>
      </div>
      <div class="item-actions"><a class="button danger-outline" href="/account/apps/${encodeURIComponent(a.clientId)}/sign-out">Sign out<span class="visually-hidden"> of ${a.name}</span></a></div></li>`)}</ul>`}
</section>
<section class="card" aria-labelledby="everywhere-title">
  <h2 id="everywhere-title">Sign out everywhere</h2>
  <p>Lost a device, or used a shared computer? This ends your sessions on every other device, and tells every app to sign you out
     on every device, this one included. This browser stays signed in to your ${v.appName} account, so you can delete a lost device’s passkey next.</p>
  <a class="button danger-outline" href="/account/sessions/sign-out-everywhere">Sign out everywhere…</a>
</section>`);
