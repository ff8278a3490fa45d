import { html } from '../../html.ts';
import type { ClientSetupValues } from '../../../admin/client-setup.ts';
import type { FieldErrors } from '../../form.ts';
import { adminPage, checkbox, copyable, csrfField, formErrors, notice, problem, textArea, textInput, when, type AdminFrame } from './admin-layout.ts';

export interface ClientRow {
  id: string;
  name: string;
  redirectUris: string[];
  isPublic: boolean;
  access: string;
  /** Set up by latchkey serve (latchkey-serve): listed, but not changed here. */
  managed: boolean;
}

// serve's own client: the clients service refuses every change of it (409 client_managed), so its
// pages offer none and say why.
const MANAGED_BADGE = html`<span class="badge">managed by latchkey serve</span>`;

export const accessSummary = (c: { unrestricted: boolean; allowedGroups: string[] }) =>
  c.unrestricted ? 'Everyone' : c.allowedGroups.length ? `Members of ${c.allowedGroups.join(', ')}` : 'Nobody (no group chosen)';

export const clientListPage = (v: { frame: AdminFrame; clients: ClientRow[]; notice?: string | null }) => adminPage(v.frame, 'Apps', html`
<section class="card">
  <div class="heading-row">
    <h1>Apps (OIDC clients)</h1>
    <a class="button primary" href="/admin/clients/new">Add an app</a>
  </div>
  ${notice(v.notice)}
  <p>Each app that signs people in here (oauth2-proxy, latchkey proxy, any OpenID Connect client) needs a client.</p>
  ${v.clients.some((c) => c.managed) ? html`<p>The site's own app (${v.clients.filter((c) => c.managed).map((c, i) => html`${i ? ', ' : ''}<code>${c.id}</code>`)}) is set up by <code>latchkey serve</code> at every start: it is listed here, but cannot be changed, given a new secret or deleted.</p>` : ''}
  ${v.clients.length === 0 ? html`<p>No apps yet.</p>` : html`
  <table class="stack">
    <thead><tr><th scope="col">Name</th><th scope="col">Client ID</th><th scope="col">Redirect URIs</th><th scope="col">Who may sign in</th></tr></thead>
    <tbody>${v.clients.map((c) => html`<tr>
      <th scope="row" data-label="Name"><a href="/admin/clients/${encodeURIComponent(c.id)}">${c.name}</a>${c.isPublic ? html` <span class="badge">public</span>` : ''}${c.managed ? html` ${MANAGED_BADGE}` : ''}</th>
      <td data-label="Client ID"><code>${c.id}</code></td>
      <td data-label="Redirect URIs">${c.redirectUris.map((u) => html`<code>${u}</code> `)}</td>
      <td data-label="Who may sign in">${c.access}</td>
    </tr>`)}</tbody>
  </table>`}
</section>`);

export interface ClientFormValues {
  id: string;
  name: string;
  redirectUris: string;
  postLogoutRedirectUris: string;
  backchannelLogoutUri: string;
  isPublic: boolean;
  requirePkce: boolean;
  access: 'everyone' | 'groups';
  allowedGroups: string[];
}

export const emptyClientForm: ClientFormValues = {
  id: '', name: '', redirectUris: '', postLogoutRedirectUris: '', backchannelLogoutUri: '',
  isPublic: false, requirePkce: true, access: 'groups', allowedGroups: [],
};

export interface ClientFormView {
  frame: AdminFrame;
  values: ClientFormValues;
  allGroups: { name: string; friendlyName: string }[];
  errors: FieldErrors;
}

const CLIENT_FIELDS = ['name', 'id', 'redirectUris', 'postLogoutRedirectUris', 'backchannelLogoutUri', 'isPublic', 'requirePkce', 'allowedGroups'];

function clientFields(v: ClientFormView, isNew: boolean) {
  const { values, errors } = v;
  return html`
  ${textInput({ name: 'name', label: 'Name', value: values.name, required: true, maxlength: 100, error: errors.name, hint: 'For you: e.g. “Family site”.' })}
  ${isNew ? textInput({ name: 'id', label: 'Client ID', value: values.id, maxlength: 128, error: errors.id, hint: 'Leave empty for a random one. Letters, digits, dots, dashes, underscores, tildes (e.g. pocket-id-client).' }) : ''}
  ${textArea({ name: 'redirectUris', label: 'Redirect URIs', value: values.redirectUris, required: true, error: errors.redirectUris, hint: 'One per line, exact. For oauth2-proxy or latchkey proxy: https://your-site/oauth2/callback' })}
  ${textArea({ name: 'postLogoutRedirectUris', label: 'Addresses to return to after sign-out', value: values.postLogoutRedirectUris, rows: 2, error: errors.postLogoutRedirectUris, hint: 'One per line.' })}
  ${textInput({ name: 'backchannelLogoutUri', label: 'Back-channel logout URI', type: 'url', value: values.backchannelLogoutUri, maxlength: 2000, error: errors.backchannelLogoutUri, hint: 'Told when someone signs out or is disabled. For latchkey proxy: https://your-site/oauth2/backchannel-logout' })}
  ${checkbox({ name: 'isPublic', label: 'Public client (cannot keep a secret: a phone or browser app)', checked: values.isPublic, hint: 'Public clients get no secret and must use PKCE. Proxies are not public.' })}
  ${checkbox({ name: 'requirePkce', label: 'Require PKCE (recommended)', checked: values.requirePkce || values.isPublic })}
  <fieldset class="field" id="f-allowedGroups">
    <legend>Who may sign in</legend>
    <div class="check"><input type="radio" id="f-access-everyone" name="access" value="everyone"${values.access === 'everyone' ? html` checked` : ''}> <label for="f-access-everyone">Everyone with an account</label></div>
    <div class="check"><input type="radio" id="f-access-groups" name="access" value="groups"${values.access === 'groups' ? html` checked` : ''}${errors.allowedGroups ? html` aria-describedby="f-allowedGroups-error"` : ''}> <label for="f-access-groups">Only members of these groups:</label></div>
    <div class="indent">
    ${v.allGroups.length === 0 ? html`<p class="muted">No groups yet: <a href="/admin/groups">create one</a> first, or choose Everyone.</p>` : ''}
    ${v.allGroups.map((g) => checkbox({ name: 'allowedGroups', id: `f-allowed-${g.name}`, value: g.name, label: g.friendlyName === g.name ? g.name : `${g.friendlyName} (${g.name})`, checked: values.allowedGroups.includes(g.name) }))}
    </div>
    ${errors.allowedGroups ? html`<p class="field-error" id="f-allowedGroups-error">${errors.allowedGroups}</p>` : ''}
  </fieldset>`;
}

export const newClientPage = (v: ClientFormView) => adminPage(v.frame, 'Add an app', html`
<p class="breadcrumb"><a href="/admin/clients">Apps</a> › New</p>
<section class="card">
  <h1>Add an app</h1>
  ${formErrors('The app was not created; see below.', v.errors, CLIENT_FIELDS)}
  <form method="post" action="/admin/clients/new" novalidate>
    ${csrfField(v.frame.csrfToken)}
    ${clientFields(v, true)}
    <div class="actions"><button type="submit" class="primary">Create app</button> <a href="/admin/clients">Cancel</a></div>
  </form>
</section>`);

export interface ClientDetailView extends ClientFormView {
  client: { id: string; name: string; isPublic: boolean; createdAt: number; updatedAt: number };
  setup: ClientSetupValues;
  notice?: string | null;
}

export const clientDetailPage = (v: ClientDetailView) => adminPage(v.frame, `App ${v.client.name}`, html`
<p class="breadcrumb"><a href="/admin/clients">Apps</a> › ${v.client.name}</p>
${notice(v.notice)}
<section class="card">
  <h1>${v.client.name}</h1>
  <p class="muted">Client ID <code>${v.client.id}</code> · added ${when(v.client.createdAt)} · changed ${when(v.client.updatedAt)}</p>
  ${formErrors('The changes were not saved; see below.', v.errors, CLIENT_FIELDS)}
  <form method="post" action="/admin/clients/${encodeURIComponent(v.client.id)}" novalidate>
    ${csrfField(v.frame.csrfToken)}
    ${clientFields(v, false)}
    <div class="actions"><button type="submit" class="primary">Save changes</button></div>
  </form>
</section>
${setupSection(v.setup, false)}
<section class="card">
  <h2>Secret and removal</h2>
  <div class="actions">
    ${v.client.isPublic ? '' : html`<a class="button" href="/admin/clients/${encodeURIComponent(v.client.id)}/secret">Regenerate secret…</a>`}
    <a class="button danger" href="/admin/clients/${encodeURIComponent(v.client.id)}/delete">Delete app…</a>
  </div>
</section>`);

export interface ManagedClientView {
  frame: AdminFrame;
  client: { id: string; name: string; redirectUris: string[]; postLogoutRedirectUris: string[]; createdAt: number; updatedAt: number };
  access: string;
}

// No form, no secret, no setup values: serve hands the secret to its proxy in memory, and the
// client is for the site's own sign-in only.
export const managedClientPage = (v: ManagedClientView) => adminPage(v.frame, `App ${v.client.name}`, html`
<p class="breadcrumb"><a href="/admin/clients">Apps</a> › ${v.client.name}</p>
<section class="card">
  <h1>${v.client.name}</h1>
  <p class="muted">${MANAGED_BADGE} Client ID <code>${v.client.id}</code> · added ${when(v.client.createdAt)} · changed ${when(v.client.updatedAt)}</p>
  <p><code>latchkey serve</code> sets up this app for its site at every start: its addresses follow <code>--url</code>, and its secret is made anew at each start and handed to the site's proxy in memory, never shown.
  It cannot be changed, given a new secret or deleted here: any of those would stop every sign-in to the site until the next start. Do not use it for another app; <a href="/admin/clients/new">add an app</a> of its own instead.</p>
  <dl class="facts single">
    <div><dt>Redirect URIs</dt><dd>${v.client.redirectUris.map((u) => html`<code>${u}</code> `)}</dd></div>
    <div><dt>After sign-out</dt><dd>${v.client.postLogoutRedirectUris.map((u) => html`<code>${u}</code> `)}</dd></div>
    <div><dt>Who may sign in</dt><dd>${v.access}; each <code>--protect</code> rule then decides who may open its section</dd></div>
  </dl>
</section>`);

/** The values an app's configuration needs; the secret only right after it was made. */
export function setupSection(s: ClientSetupValues, withSecret: boolean) {
  return html`<section class="card setup" aria-labelledby="setup-heading">
  <h2 id="setup-heading">Values to configure the app with</h2>
  ${copyable('setup-client-id', 'Client ID', s.clientId)}
  ${withSecret && s.secret ? copyable('setup-secret', 'Client secret', s.secret) : ''}
  ${copyable('setup-issuer', 'Issuer URL', s.issuer)}
  ${copyable('setup-discovery', 'Discovery URL', s.discoveryUrl)}
  ${s.secret === null && !withSecret ? html`<p class="muted">The client secret is shown only once, when it is made; latchkey keeps only a hash of it. Lost it? Regenerate it below.</p>` : ''}
  ${copyable('setup-oauth2-proxy', 'oauth2-proxy flags', s.oauth2ProxyCommand, true)}
  ${copyable('setup-latchkey-proxy', 'latchkey proxy flags (same flags)', s.latchkeyProxyCommand, true)}
</section>`;
}

export interface ClientSecretView {
  frame: AdminFrame;
  client: { id: string; name: string; isPublic: boolean };
  setup: ClientSetupValues;
  /** True when the page is opened again after the secret was shown. */
  alreadyShown: boolean;
  created: boolean;
}

export const clientSecretPage = (v: ClientSecretView) => adminPage(v.frame, `Set up ${v.client.name}`, html`
<p class="breadcrumb"><a href="/admin/clients">Apps</a> › <a href="/admin/clients/${encodeURIComponent(v.client.id)}">${v.client.name}</a></p>
<section class="card reveal">
  <h1>${v.created ? `${v.client.name} was created` : `New secret for ${v.client.name}`}</h1>
  ${v.alreadyShown ? problem('The secret was shown once and is not shown again. If it was lost, regenerate it from the app’s page.')
    : v.setup.secret ? html`<p class="warning">Copy the secret now: it is shown only this once. latchkey keeps only a hash of it.</p>`
    : html`<p>This is a public client: it has no secret and must use PKCE.</p>`}
</section>
${setupSection(v.setup, !v.alreadyShown)}
<p><a href="/admin/clients/${encodeURIComponent(v.client.id)}">Done: go to ${v.client.name}</a></p>`);
