import { html } from '../../html.ts';
import { adminPage, type AdminFrame } from './admin-layout.ts';

export interface OverviewView {
  frame: AdminFrame;
  /** `clients`: under `latchkey serve`, without its own client (latchkey-serve), which no admin made. */
  counts: { users: number; groups: number; clients: number; apiKeys: number };
  usersWithoutPasskey: number;
  /** Under `latchkey serve` the site's app is set up already, and groups come from its --protect rules. */
  underServe?: boolean;
}

export const overviewPage = (v: OverviewView) => adminPage(v.frame, 'Admin', html`
<section class="card">
  <h1>Admin</h1>
  <ul class="tiles">
    <li><a href="/admin/users"><strong>${v.counts.users}</strong> users</a></li>
    <li><a href="/admin/groups"><strong>${v.counts.groups}</strong> groups</a></li>
    <li><a href="/admin/clients"><strong>${v.counts.clients}</strong> ${v.underServe ? 'apps besides the site’s own' : 'apps'}</a></li>
    <li><a href="/admin/api-keys"><strong>${v.counts.apiKeys}</strong> API keys</a></li>
  </ul>
  ${v.usersWithoutPasskey ? html`<p class="warning">${v.usersWithoutPasskey === 1 ? '1 user has' : `${v.usersWithoutPasskey} users have`} no passkey yet: send them a sign-in link from their page.</p>` : ''}
</section>
<section class="card">
  <h2>Protecting a site, step by step</h2>
  ${v.underServe ? serveSteps : splitSteps}
</section>`);

const splitSteps = html`<ol>
    <li><a href="/admin/groups">Create a group</a> for the people who may see the private pages (optional: an app can also admit everyone).</li>
    <li><a href="/admin/clients/new">Add an app</a> for the site's proxy, with redirect URI <code>https://your-site/oauth2/callback</code>, and copy the values shown.</li>
    <li><a href="/admin/users/new">Add each person</a> and send them a one-time sign-in link; they register a passkey.</li>
  </ol>`;

// latchkey serve sets up its own app (the latchkey-serve client); only a --protect rule's groups matter.
const serveSteps = html`<ol>
    <li>For a section protected with <code>--protect PATH=GROUP</code>, <a href="/admin/groups">create a group</a> of that name (optional: a section protected without a group admits everyone signed in).</li>
    <li><a href="/admin/users/new">Add each person</a> and send them a one-time sign-in link; they register a passkey.</li>
  </ol>`;
