// After a sign-out that some app could not be told of (src/oidc/untold-apps.ts): which apps, that
// the person is still signed in there until that app's own session ends, and what ends it. One
// wording for the admin console, about a user (with the address tried, the cause, and what the
// operator does), and for /account/sessions, about "you" (with what the user does: sign out there).
import { html, type Html } from '../html.ts';
import type { SignOutGapsView, UntoldApp } from '../../oidc/untold-apps.ts';

/** Who reads the notice: an admin about the user they acted on, or the user who signed out. */
export type SignOutGapsReader = 'admin' | 'self';

export function signOutGapsNotice(gaps: SignOutGapsView, reader: SignOutGapsReader): Html | '' {
  if (!gaps) return '';
  if (gaps === 'unknown') {
    return reader === 'admin'
      ? html`<div class="warning" role="alert"><p>Some apps could not be told of this sign-out, and the user may still be signed in there. The server log (at warn, "back-channel logout failed" or "back-channel logout not sent") and the audit log (oidc_logout_user) name them.</p></div>`
      : html`<div class="warning" role="alert"><p>Some apps could not be told of this sign-out, and you may still be signed in there until their own sessions end. To end one now, sign out on that site itself (with its own sign-out link).</p></div>`;
  }
  const one = gaps.apps.length === 1;
  const [subject, are] = reader === 'admin' ? [gaps.username, 'is'] : ['You', 'are'];
  const lead = html`<p>${subject} ${are} still signed in to ${one ? 'this app' : 'these apps'}: ${one ? 'it' : 'they'} could not be told of the sign-out.</p>`;
  const until = html`stay signed in there until ${one ? 'that app' : 'each app'}'s own session ends`;
  if (reader === 'self') {
    return html`<div class="warning" role="alert">
  ${lead}
  <ul>${gaps.apps.map((app) => html`<li><strong>${app.name}</strong></li>`)}</ul>
  <p>You ${until}. To end it now, sign out on that site itself (with its own sign-out link), in each browser where you used it. The administrator of this server can see in its audit log why ${one ? 'it' : 'they'} could not be told.</p>
</div>`;
  }
  const unreachable = gaps.apps.some((app) => app.uri !== null);
  const withoutUri = gaps.apps.some((app) => app.uri === null);
  return html`<div class="warning" role="alert">
  ${lead}
  <ul>${gaps.apps.map((app) => html`<li>${adminLine(app)}</li>`)}</ul>
  <p>They ${until}: with latchkey proxy or oauth2-proxy, at its --cookie-expire (168h by default), or sooner at its next --cookie-refresh. To end it now, restart that proxy with a new --cookie-secret (everyone signs in there again).${unreachable ? html` So that the next sign-out reaches it, its back-channel logout URI must be reachable from this server: correct the address under <a href="/admin/clients">Apps</a>, or the name resolution or network between them.` : ''}${withoutUri ? html` So that the next sign-out reaches an app without a back-channel logout URI, set one under <a href="/admin/clients">Apps</a>: for latchkey proxy, <code>https://SITE/oauth2/backchannel-logout</code>, beside its <code>/oauth2/callback</code>.` : ''}</p>
</div>`;
}

/** One app in the admin's notice: where it was tried and why it failed, or that it has no address to try. */
const adminLine = (app: UntoldApp): Html => app.uri === null
  ? html`<strong>${app.name}</strong> (<a href="/admin/clients/${encodeURIComponent(app.clientId)}">${app.clientId}</a>): ${app.cause}.${app.suggestedUri ? html` Set it to <code>${app.suggestedUri}</code>.` : ''}`
  : html`<strong>${app.name}</strong> (${app.clientId}) at <code>${app.uri}</code>: ${app.cause}.`;
