// /account/profile: the names and email a user may change themselves.
import { html } from '../html.ts';
import { accountLayout, type AccountChrome } from './account-layout.ts';
import { csrfField, errorSummary, field, notice } from './page-parts.ts';

export interface ProfileView extends AccountChrome {
  username: string;
  values: { firstName: string; lastName: string; email: string };
  fieldErrors?: Record<string, string>;
  notice?: string | null;
}

export const profilePage = (v: ProfileView) => accountLayout(v, 'profile', 'Your profile', html`
<section class="card" aria-labelledby="profile-title">
  <h1 id="profile-title">Your profile</h1>
  ${notice(v.notice)}
  <p>Apps you sign in to see these details.</p>
  <dl class="facts single">
    <div><dt>Username</dt><dd><strong>${v.username}</strong></dd></div>
  </dl>
  <p class="hint">Only an admin can change your username, because apps may use it to recognise you.</p>
  <form method="post" action="/account/profile" novalidate>
    ${errorSummary('Your profile was not saved; fix these and save again.', (['firstName', 'lastName', 'email'] as const).map((name) => [name, v.fieldErrors?.[name]] as const))}
    ${csrfField(v.csrfToken)}
    ${field({ name: 'firstName', label: 'First name', value: v.values.firstName, error: v.fieldErrors?.firstName, autocomplete: 'given-name', maxlength: 100 })}
    ${field({ name: 'lastName', label: 'Last name', value: v.values.lastName, error: v.fieldErrors?.lastName, autocomplete: 'family-name', maxlength: 100 })}
    ${field({ name: 'email', label: 'Email', type: 'email', value: v.values.email, error: v.fieldErrors?.email, autocomplete: 'email', maxlength: 254,
      hint: 'A changed address counts as unconfirmed until an admin confirms it.' })}
    <button type="submit" class="primary">Save profile</button>
  </form>
</section>`);
