// /account (passkeys) and /account/profile: what every signed-in user can manage themselves.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.ts';
import { assertSameOrigin } from '../web/csrf.ts';
import { field, formBody } from '../web/form.ts';
import { html } from '../web/html.ts';
import { accountPage, type PasskeyListItem } from '../web/pages/account-page.ts';
import { confirmPage } from '../web/pages/confirm-page.ts';
import { profilePage } from '../web/pages/profile-page.ts';
import { accountFor, auditContext, sendPage, type AccountContextDeps } from './account-context.ts';
import { passkeyRemovalRefusal, type RemovalFacts } from './passkey-removal.ts';

export interface AccountRoutesDeps extends AccountContextDeps {
  passkeys: {
    list(userId: string): Promise<PasskeyListItem[]>;
    /** Throws a 404 AppError for a passkey that is not the user's, a 400 for a bad name. */
    rename(userId: string, passkeyId: string, name: string): Promise<void>;
    removalFacts(userId: string): Promise<RemovalFacts>;
    /** Deletes one of the user's passkeys unless that would lock them out (409), 404 if not theirs. */
    remove(userId: string, passkeyId: string): Promise<void>;
  };
}

const DONE: Record<string, string> = {
  renamed: 'The passkey was renamed.',
  deleted: 'The passkey was deleted. This site no longer accepts it; you may also remove it from the device.',
  profile: 'Your profile was saved.',
};

export function accountRoutes(app: FastifyInstance, deps: AccountRoutesDeps): void {
  const { identity } = deps;

  async function renderPasskeys(account: NonNullable<Awaited<ReturnType<typeof accountFor>>>, extra: Partial<Parameters<typeof accountPage>[0]>) {
    const [passkeys, codes] = await Promise.all([deps.passkeys.list(account.user.id), identity.recoveryCodes.status(account.user.id)]);
    return accountPage({ ...account.chrome, passkeys, unusedRecoveryCodes: codes.unused, ...extra });
  }

  app.get<{ Querystring: { welcome?: string; added?: string; done?: string; recovered?: string } }>('/account', async (request, reply) => {
    const account = await accountFor(deps, request, reply);
    if (!account) return reply;
    const { query } = request;
    const recovered = query.recovered === '1' ? { remaining: (await identity.recoveryCodes.status(account.user.id)).unused } : null;
    return sendPage(reply, await renderPasskeys(account, {
      welcome: query.welcome === '1', recovered,
      notice: query.added === '1' ? 'Your passkey was added.' : DONE[query.done ?? ''] ?? null,
    }));
  });

  // The passkey travels as a query or form field, not a path segment: credential ids can be far
  // longer than the router's limit on a path parameter (WebAuthn allows up to 1023 bytes).
  app.post('/account/passkeys/rename', async (request, reply) => {
    const body = formBody(request.body);
    assertSameOrigin(request, deps.csrf, body);
    const account = (await accountFor(deps, request, reply))!;
    const passkeyId = field(body, 'id');
    const name = field(body, 'name');
    try {
      await deps.passkeys.rename(account.user.id, passkeyId, name);
    } catch (error) {
      if (error instanceof AppError && error.status === 400)
        return sendPage(reply, await renderPasskeys(account, { rename: { passkeyId, value: name, error: error.message } }), 400);
      throw error;
    }
    await identity.audit.record({ event: 'passkey_renamed', ...auditContext(request, account.user.id), details: { passkeyId } });
    return reply.redirect('/account?done=renamed', 303);
  });

  app.get<{ Querystring: { id?: string } }>('/account/passkeys/delete', async (request, reply) => {
    const account = await accountFor(deps, request, reply);
    if (!account) return reply;
    const passkey = (await deps.passkeys.list(account.user.id)).find((p) => p.id === request.query.id);
    if (!passkey) throw new AppError('webauthn_passkey_not_found', 404, 'This passkey was not found.');
    const facts = await deps.passkeys.removalFacts(account.user.id);
    const refusal = passkeyRemovalRefusal(facts);
    const last = facts.passkeyCount === 1;
    return sendPage(reply, confirmPage({
      chrome: account.chrome, section: 'passkeys', title: `Delete the passkey “${passkey.name}”?`,
      consequences: html`<p>You will no longer be able to sign in with it. It stays on the device until you remove it there, but this site will refuse it.</p>
        <p>Browsers and apps already signed in stay signed in. If the device was lost, or someone else may have it, also sign out everywhere under <a href="/account/sessions">Where you are signed in</a>.</p>
        ${last && !refusal ? html`<p class="warning">This is your only passkey. Afterwards you can sign in only with one of your ${facts.unusedRecoveryCodes} recovery ${facts.unusedRecoveryCodes === 1 ? 'code' : 'codes'}, and you will need to add a passkey again.</p>` : ''}`,
      action: refusal ? null : '/account/passkeys/delete', fields: { id: passkey.id }, confirmLabel: 'Delete passkey', cancelHref: '/account',
      refusal: refusal?.message,
    }));
  });

  app.post('/account/passkeys/delete', async (request, reply) => {
    const body = formBody(request.body);
    assertSameOrigin(request, deps.csrf, body);
    const account = (await accountFor(deps, request, reply))!;
    const passkeyId = field(body, 'id');
    await deps.passkeys.remove(account.user.id, passkeyId);
    await identity.audit.record({ event: 'passkey_deleted', ...auditContext(request, account.user.id), details: { passkeyId } });
    return reply.redirect('/account?done=deleted', 303);
  });

  app.get<{ Querystring: { done?: string } }>('/account/profile', async (request, reply) => {
    const account = await accountFor(deps, request, reply);
    if (!account) return reply;
    const { user } = account;
    return sendPage(reply, profilePage({
      ...account.chrome, username: user.username, values: { firstName: user.firstName, lastName: user.lastName, email: user.email ?? '' },
      notice: DONE[request.query.done ?? ''] ?? null,
    }));
  });

  app.post('/account/profile', async (request, reply) => {
    const body = formBody(request.body);
    assertSameOrigin(request, deps.csrf, body);
    const account = (await accountFor(deps, request, reply))!;
    const { user } = account;
    const values = { firstName: field(body, 'firstName'), lastName: field(body, 'lastName'), email: field(body, 'email') };
    const emailChanged = values.email.toLowerCase() !== (user.email ?? '');
    try {
      // An address the user typed themselves is not confirmed: apps that trust email_verified must not
      // take it as proof of owning that mailbox.
      await identity.users.update(user.id, { ...values, email: values.email || null, ...(emailChanged ? { emailVerified: false } : {}) });
    } catch (error) {
      const fields = error instanceof AppError ? (error.details?.fields as Record<string, string> | undefined) : undefined;
      if (error instanceof AppError && (fields || error.code === 'email_taken')) {
        const fieldErrors = fields ?? { email: 'Another account already uses this email address.' };
        return sendPage(reply, profilePage({ ...account.chrome, username: user.username, values, fieldErrors }), 400);
      }
      throw error;
    }
    await identity.audit.record({ event: 'profile_updated', ...auditContext(request, user.id), details: { emailChanged } });
    return reply.redirect('/account/profile?done=profile', 303);
  });
}
