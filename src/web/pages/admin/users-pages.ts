import { html, type Html } from '../../html.ts';
import type { FieldErrors } from '../../form.ts';
import type { SignOutGapsView } from '../../../oidc/untold-apps.ts';
import { signOutGapsNotice } from '../sign-out-gaps.ts';
import { adminPage, checkbox, csrfField, formErrors, notice, problem, textInput, when, type AdminFrame } from './admin-layout.ts';

export interface UserRow {
  id: string;
  username: string;
  name: string;
  email: string | null;
  groups: string[];
  isAdmin: boolean;
  disabled: boolean;
  passkeyCount: number;
}

export interface UserListView {
  frame: AdminFrame;
  users: UserRow[];
  search: string;
  page: number;
  hasNext: boolean;
  notice?: string | null;
  signOutGaps?: SignOutGapsView;
}

const pageHref = (search: string, page: number) =>
  `/admin/users?${new URLSearchParams({ ...(search ? { q: search } : {}), ...(page > 1 ? { page: String(page) } : {}) })}`;

export const userListPage = (v: UserListView) => adminPage(v.frame, 'Users', html`
<section class="card">
  <div class="heading-row">
    <h1>Users</h1>
    <a class="button primary" href="/admin/users/new">Add a user</a>
  </div>
  ${notice(v.notice)}
  ${signOutGapsNotice(v.signOutGaps, 'admin')}
  <form method="get" action="/admin/users" class="search" role="search">
    <label for="user-search">Search by username, name or email</label>
    <div class="search-row">
      <input id="user-search" name="q" type="search" value="${v.search}" maxlength="100">
      <button type="submit">Search</button>
    </div>
  </form>
  ${v.users.length === 0 ? html`<p>${v.search ? `No user matches “${v.search}”.` : 'No users yet.'}</p>` : html`
  <table class="stack">
    <caption class="visually-hidden">Users${v.search ? `, matching “${v.search}”` : ''}, page ${v.page}</caption>
    <thead><tr><th scope="col">Username</th><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Groups</th><th scope="col">Passkeys</th><th scope="col">Status</th></tr></thead>
    <tbody>
    ${v.users.map((u) => html`<tr>
      <th scope="row" data-label="Username"><a href="/admin/users/${u.id}">${u.username}</a></th>
      <td data-label="Name">${u.name || html`<span class="muted">–</span>`}</td>
      <td data-label="Email">${u.email ?? html`<span class="muted">–</span>`}</td>
      <td data-label="Groups">${u.groups.join(', ') || html`<span class="muted">none</span>`}</td>
      <td data-label="Passkeys">${u.passkeyCount}</td>
      <td data-label="Status">${[u.isAdmin ? 'Admin' : '', u.disabled ? 'Disabled' : 'Active'].filter(Boolean).join(', ')}</td>
    </tr>`)}
    </tbody>
  </table>`}
  <nav class="pager" aria-label="Pages of users">
    ${v.page > 1 ? html`<a href="${pageHref(v.search, v.page - 1)}" rel="prev">Previous page</a>` : ''}
    <span>Page ${v.page}</span>
    ${v.hasNext ? html`<a href="${pageHref(v.search, v.page + 1)}" rel="next">Next page</a>` : ''}
  </nav>
</section>`);

export interface UserFormValues {
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  isAdmin: boolean;
  groups: string[];
}

export const emptyUserForm: UserFormValues = { username: '', email: '', firstName: '', lastName: '', isAdmin: false, groups: [] };

const USER_FIELDS = ['username', 'email', 'firstName', 'lastName', 'isAdmin', 'groups'];

/** The fields shared by "Add a user" and "Edit". */
function userFields(values: UserFormValues, allGroups: { name: string; friendlyName: string }[], errors: FieldErrors) {
  return html`
  ${textInput({ name: 'username', label: 'Username', value: values.username, required: true, maxlength: 50, autocomplete: 'off', error: errors.username, hint: 'Letters, digits, dots, dashes, underscores or @. Apps see it as the preferred username.' })}
  ${textInput({ name: 'email', label: 'Email', type: 'email', value: values.email, maxlength: 254, autocomplete: 'off', error: errors.email })}
  ${textInput({ name: 'firstName', label: 'First name', value: values.firstName, maxlength: 100, autocomplete: 'off', error: errors.firstName })}
  ${textInput({ name: 'lastName', label: 'Last name', value: values.lastName, maxlength: 100, autocomplete: 'off', error: errors.lastName })}
  ${checkbox({ name: 'isAdmin', label: 'Administrator (can open this console)', checked: values.isAdmin, error: errors.isAdmin })}
  <fieldset class="field" id="f-groups"${errors.groups ? html` aria-describedby="f-groups-error"` : ''}>
    <legend>Groups</legend>
    ${allGroups.length === 0 ? html`<p class="muted">No groups yet. <a href="/admin/groups">Create one</a> to limit apps to some people.</p>` : ''}
    ${allGroups.map((g) => checkbox({ name: 'groups', id: `f-group-${g.name}`, value: g.name, label: g.friendlyName === g.name ? g.name : `${g.friendlyName} (${g.name})`, checked: values.groups.includes(g.name) }))}
    ${errors.groups ? html`<p class="field-error" id="f-groups-error">${errors.groups}</p>` : ''}
  </fieldset>`;
}

export interface UserFormView {
  frame: AdminFrame;
  values: UserFormValues;
  allGroups: { name: string; friendlyName: string }[];
  errors: FieldErrors;
}

export const newUserPage = (v: UserFormView) => adminPage(v.frame, 'Add a user', html`
<section class="card">
  <h1>Add a user</h1>
  <p>After saving you can create a one-time sign-in link for them: they open it and register a passkey.</p>
  ${formErrors('The user was not created; see below.', v.errors, USER_FIELDS)}
  <form method="post" action="/admin/users/new" novalidate>
    ${csrfField(v.frame.csrfToken)}
    ${userFields(v.values, v.allGroups, v.errors)}
    <div class="actions"><button type="submit" class="primary">Create user</button> <a href="/admin/users">Cancel</a></div>
  </form>
</section>`);

export interface PasskeyRow {
  /** The credential ID (base64url), which names it in the remove link. */
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface UserDetailView extends UserFormView {
  user: { id: string; username: string; disabled: boolean; isSelf: boolean; createdAt: number };
  passkeys: PasskeyRow[];
  notice?: string | null;
  signOutGaps?: SignOutGapsView;
}

export const userDetailPage = (v: UserDetailView) => adminPage(v.frame, `User ${v.user.username}`, html`
<p class="breadcrumb"><a href="/admin/users">Users</a> › ${v.user.username}</p>
${notice(v.notice)}
${signOutGapsNotice(v.signOutGaps, 'admin')}
<section class="card">
  <h1>${v.user.username}${v.user.disabled ? html` <span class="badge">Disabled</span>` : ''}</h1>
  <p class="muted">Added ${when(v.user.createdAt)}${v.user.isSelf ? ' · this is you' : ''}</p>
  ${formErrors('The changes were not saved; see below.', v.errors, USER_FIELDS)}
  <form method="post" action="/admin/users/${v.user.id}" novalidate>
    ${csrfField(v.frame.csrfToken)}
    ${userFields(v.values, v.allGroups, v.errors)}
    <div class="actions"><button type="submit" class="primary">Save changes</button></div>
  </form>
</section>
<section class="card" aria-labelledby="passkeys-heading">
  <h2 id="passkeys-heading">Passkeys</h2>
  ${v.passkeys.length === 0 ? html`<p>No passkeys. ${v.user.username} can sign in only with a one-time link, then register a passkey.</p>` : html`
  <table class="stack">
    <thead><tr><th scope="col">Name</th><th scope="col">Added</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${v.passkeys.map((p) => html`<tr><th scope="row" data-label="Name">${p.name}</th><td data-label="Added">${when(p.createdAt)}</td><td data-label="Last used">${when(p.lastUsedAt)}</td><td data-label="Actions"><a href="/admin/users/${v.user.id}/passkeys/${encodeURIComponent(p.id)}/remove">Remove<span class="visually-hidden"> ${p.name}</span>…</a></td></tr>`)}</tbody>
  </table>`}
  <div class="actions">
    <a class="button primary" href="/admin/users/${v.user.id}/link">Create a sign-in link</a>
    ${v.passkeys.length ? html`<a class="button" href="/admin/users/${v.user.id}/reset-passkeys">Reset passkeys</a>` : ''}
  </div>
</section>
<section class="card" aria-labelledby="danger-heading">
  <h2 id="danger-heading">Account</h2>
  <div class="actions">
    ${v.user.disabled ? html`<form method="post" action="/admin/users/${v.user.id}/enable" class="inline">${csrfField(v.frame.csrfToken)}<button type="submit">Enable ${v.user.username}</button></form>`
      : html`<a class="button" href="/admin/users/${v.user.id}/disable">Disable…</a>`}
    <a class="button danger" href="/admin/users/${v.user.id}/delete">Delete user…</a>
  </div>
</section>`);

export interface LinkView {
  frame: AdminFrame;
  user: { id: string; username: string };
  /** The link, on the one visit after it was made; null afterwards. */
  link: { url: string; expiresAt: number; qr: Html } | null;
  /** A reveal token was presented but the link was already shown. */
  alreadyShown: boolean;
  notice?: string | null;
  signOutGaps?: SignOutGapsView;
  /** Why no link can be made now (a disabled user). */
  refusal?: string | null;
}

const LINK_VALIDITY: [string, string][] = [['3600', '1 hour'], ['86400', '24 hours'], ['259200', '3 days'], ['604800', '7 days']];

export const userLinkPage = (v: LinkView) => adminPage(v.frame, `Sign-in link for ${v.user.username}`, html`
<p class="breadcrumb"><a href="/admin/users">Users</a> › <a href="/admin/users/${v.user.id}">${v.user.username}</a> › Sign-in link</p>
${notice(v.notice)}
${signOutGapsNotice(v.signOutGaps, 'admin')}
${v.link ? html`<section class="card reveal" aria-labelledby="link-heading">
  <h1 id="link-heading">Sign-in link for ${v.user.username}</h1>
  <p class="warning">Shown only this once. Send it to ${v.user.username} privately; it works once, until ${when(v.link.expiresAt)}.</p>
  ${copyableLink(v.link.url)}
  <figure class="qr-figure">${v.link.qr}<figcaption>Or let them scan this with their phone's camera.</figcaption></figure>
  <p>When they open it, they are signed in once and asked to register a passkey on that device.</p>
</section>` : ''}
<section class="card">
  <h${v.link ? '2' : '1'}>${v.link ? 'Need another link?' : `Create a sign-in link for ${v.user.username}`}</h${v.link ? '2' : '1'}>
  ${v.alreadyShown ? problem('That link was shown once and is not shown again. If it was lost, create a new one: the old one stops working.') : ''}
  <p>A one-time link lets ${v.user.username} sign in without a passkey, once, to register one: for a new user, or someone who lost their passkeys. Creating a link cancels any earlier unused link for ${v.user.username}.</p>
  ${v.refusal ? problem(v.refusal) : html`<form method="post" action="/admin/users/${v.user.id}/link">
    ${csrfField(v.frame.csrfToken)}
    <div class="field">
      <label for="f-ttl">Valid for</label>
      <select id="f-ttl" name="ttlSeconds">${LINK_VALIDITY.map(([value, label]) => html`<option value="${value}"${value === '86400' ? html` selected` : ''}>${label}</option>`)}</select>
    </div>
    <button type="submit" class="primary">Create link</button>
  </form>`}
</section>`);

const copyableLink = (url: string) => html`<div class="copy-field">
  <p class="copy-label" id="link-url-label">One-time sign-in link</p>
  <code class="copy-value" id="link-url" aria-labelledby="link-url-label">${url}</code>
  <button type="button" class="copy" data-copy="link-url" hidden>Copy link</button>
</div>`;
