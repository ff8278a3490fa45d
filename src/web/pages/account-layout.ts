// The frame of every /account page: the site layout plus the section tabs.
import { html, type Html } from '../html.ts';
import { layout } from '../layout.ts';

export type AccountSection = 'passkeys' | 'profile' | 'recovery' | 'sessions';

export interface AccountChrome {
  appName: string;
  displayName: string;
  isAdmin: boolean;
  csrfToken: string;
  /**
   * The site to go back to (`latchkey serve`), in the header of every account page; set only once
   * the user has a passkey to come back with (account-context.ts). Absent under `latchkey id`.
   */
  siteUrl?: string | null;
}

const SECTIONS: { id: AccountSection; href: string; label: string }[] = [
  { id: 'passkeys', href: '/account', label: 'Passkeys' },
  { id: 'profile', href: '/account/profile', label: 'Profile' },
  { id: 'recovery', href: '/account/recovery-codes', label: 'Recovery codes' },
  { id: 'sessions', href: '/account/sessions', label: 'Sessions and apps' },
];

export function accountLayout(chrome: AccountChrome, section: AccountSection, title: string, body: Html, options: { passkeyScript?: boolean } = {}): Html {
  return layout({ title, appName: chrome.appName, signedInAs: chrome.displayName, isAdmin: chrome.isAdmin, csrfToken: chrome.csrfToken, siteUrl: chrome.siteUrl, passkeyScript: options.passkeyScript }, html`
<nav class="tabs" aria-label="Your account">
  <ul>
  ${SECTIONS.map((s) => html`<li><a href="${s.href}"${s.id === section ? html` aria-current="page"` : ''}>${s.label}</a></li>`)}
  </ul>
</nav>
${body}`);
}
