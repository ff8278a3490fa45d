import { html } from '../../html.ts';
import { adminPage, when, type AdminFrame } from './admin-layout.ts';

export interface AuditRow {
  id: string;
  createdAt: number;
  event: string;
  user: string | null;
  clientId: string | null;
  ip: string | null;
  details: string;
}

export interface AuditView {
  frame: AdminFrame;
  entries: AuditRow[];
  events: string[];
  filter: { event: string; user: string };
  userError?: string | null;
  /** The cursor of the next (older) page, or null on the last page. */
  older: { before: number; seen: number } | null;
  isFirstPage: boolean;
}

const query = (filter: AuditView['filter'], older?: { before: number; seen: number }) =>
  `/admin/audit?${new URLSearchParams({ ...(filter.event ? { event: filter.event } : {}), ...(filter.user ? { user: filter.user } : {}), ...(older ? { before: String(older.before), seen: String(older.seen) } : {}) })}`;

export const auditPage = (v: AuditView) => adminPage(v.frame, 'Audit log', html`
<section class="card">
  <h1>Audit log</h1>
  <form method="get" action="/admin/audit" class="filters">
    <div class="field">
      <label for="f-event">Event</label>
      <select id="f-event" name="event">
        <option value="">All events</option>
        ${v.events.map((e) => html`<option value="${e}"${e === v.filter.event ? html` selected` : ''}>${e}</option>`)}
      </select>
    </div>
    <div class="field">
      <label for="f-user">User (username or email)</label>
      <input id="f-user" name="user" type="text" value="${v.filter.user}" maxlength="254"${v.userError ? html` aria-invalid="true" aria-describedby="f-user-error"` : ''}>
      ${v.userError ? html`<p class="field-error" id="f-user-error">${v.userError}</p>` : ''}
    </div>
    <div class="actions"><button type="submit">Filter</button>${v.filter.event || v.filter.user ? html` <a href="/admin/audit">Clear filters</a>` : ''}</div>
  </form>
  ${v.entries.length === 0 ? html`<p>No entries${v.filter.event || v.filter.user ? ' match these filters' : ''}.</p>` : html`
  <table class="stack audit">
    <caption class="visually-hidden">Audit log entries, newest first</caption>
    <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">User</th><th scope="col">App</th><th scope="col">IP address</th><th scope="col">Details</th></tr></thead>
    <tbody>${v.entries.map((e) => html`<tr>
      <td data-label="When">${when(e.createdAt)}</td>
      <th scope="row" data-label="Event">${e.event}</th>
      <td data-label="User">${e.user ?? html`<span class="muted">–</span>`}</td>
      <td data-label="App">${e.clientId ?? html`<span class="muted">–</span>`}</td>
      <td data-label="IP address">${e.ip ?? html`<span class="muted">–</span>`}</td>
      <td data-label="Details"><code class="details">${e.details}</code></td>
    </tr>`)}</tbody>
  </table>`}
  <nav class="pager" aria-label="Pages of the audit log">
    ${v.isFirstPage ? '' : html`<a href="${query(v.filter)}">Newest</a>`}
    ${v.older ? html`<a href="${query(v.filter, v.older)}" rel="next">Older entries</a>` : ''}
  </nav>
</section>`);
