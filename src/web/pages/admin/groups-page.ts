import { html } from '../../html.ts';
import type { FieldErrors } from '../../form.ts';
import { adminPage, csrfField, formErrors, notice, textInput, type AdminFrame } from './admin-layout.ts';

export interface GroupRow {
  id: string;
  name: string;
  friendlyName: string;
  memberCount: number;
  clientCount: number;
}

export interface GroupsView {
  frame: AdminFrame;
  groups: GroupRow[];
  values: { name: string; friendlyName: string };
  errors: FieldErrors;
  notice?: string | null;
  /** Under `latchkey serve`: the groups its --protect rules name, the only ones that open anything on the site. Null under `latchkey id`. */
  protectGroups?: readonly string[] | null;
}

const purpose = (protectGroups: readonly string[] | null | undefined) => protectGroups
  ? html`<p>On this site a group has an effect only where a <code>--protect PATH=GROUP</code> rule of <code>latchkey serve</code> names it.
  ${protectGroups.length ? html`The current rules name ${protectGroups.map((g, i) => html`${i ? ', ' : ''}<code>${g}</code>`)}.` : 'No current rule names a group: every signed-in user may open every protected section.'}</p>`
  : html`<p>Groups decide who may sign in to an app (an OIDC client limited to groups), and travel to apps in the <code>groups</code> claim (for oauth2-proxy's <code>--allowed-group</code>).</p>`;

// Under serve the name is what a --protect rule is matched against, letter for letter.
const nameHint = (protectGroups: readonly string[] | null | undefined) => protectGroups
  ? 'Letters, digits, dots, dashes or underscores; no spaces. A --protect PATH=GROUP rule names the group by this name, exactly (upper and lower case differ).'
  : 'Letters, digits, dots, dashes or underscores; no spaces. Apps see this name.';

export const groupsPage = (v: GroupsView) => adminPage(v.frame, 'Groups', html`
<section class="card">
  <h1>Groups</h1>
  ${notice(v.notice)}
  ${purpose(v.protectGroups)}
  ${v.groups.length === 0 ? html`<p>No groups yet.</p>` : html`
  <table class="stack">
    <thead><tr><th scope="col">Name</th><th scope="col">Display name</th><th scope="col">Members</th><th scope="col">Apps limited to it</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${v.groups.map((g) => html`<tr>
      <th scope="row" data-label="Name"><code>${g.name}</code>${v.protectGroups && !v.protectGroups.includes(g.name) ? html` <span class="muted">(no --protect rule names it)</span>` : ''}</th>
      <td data-label="Display name">${g.friendlyName}</td>
      <td data-label="Members">${g.memberCount}</td>
      <td data-label="Apps">${g.clientCount}</td>
      <td data-label="Actions"><a href="/admin/groups/${g.id}/delete">Delete<span class="visually-hidden"> group ${g.name}</span>…</a></td>
    </tr>`)}</tbody>
  </table>`}
</section>
<section class="card">
  <h2>Create a group</h2>
  <form method="post" action="/admin/groups" novalidate>
    ${formErrors('The group was not created; see below.', v.errors, ['name', 'friendlyName'])}
    ${csrfField(v.frame.csrfToken)}
    ${textInput({ name: 'name', label: 'Name', value: v.values.name, required: true, maxlength: 64, error: v.errors.name, hint: nameHint(v.protectGroups) })}
    ${textInput({ name: 'friendlyName', label: 'Display name', value: v.values.friendlyName, maxlength: 100, error: v.errors.friendlyName })}
    <button type="submit" class="primary">Create group</button>
  </form>
</section>`);
