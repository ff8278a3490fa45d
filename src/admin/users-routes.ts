import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../core/errors.ts';
import { linkRefusalForDisabled } from '../identity/one-time-links.ts';
import { displayName, type User } from '../identity/users.ts';
import { confirmPage } from '../web/pages/admin/confirm-page.ts';
import { emptyUserForm, newUserPage, userDetailPage, userLinkPage, userListPage, type UserFormValues } from '../web/pages/admin/users-pages.ts';
import type { AdminContext } from './context.ts';
import { checked, field, fieldErrorsFrom, fields, formBody, optionalField, type FieldErrors, type FormBody } from '../web/form.ts';
import { adminOf } from './guard.ts';
import { passkeyNotFound } from '../webauthn/errors.ts';
import { passkeyRemovalByAdminRefusal, passkeyResetRefusal, resetPasskeys } from './passkey-reset.ts';
import { qrSvg } from './qr-svg.ts';
import { locationAfterSignOut, signOutGapsOf, untoldApps, type SignOutGapsView } from '../oidc/untold-apps.ts';
import type { LogoutReport } from '../oidc/logout-user.ts';

const PAGE_SIZE = 25;
const LINK_TTLS = new Set([3600, 86_400, 259_200, 604_800]);
const USER_ERROR_FIELDS = { email_taken: 'email', username_taken: 'username', unknown_group: 'groups', last_admin: 'isAdmin' };

type Params = { Params: { id: string } };
type PasskeyParams = { Params: { id: string; passkeyId: string } };

const readUserForm = (body: FormBody): UserFormValues => ({
  username: field(body, 'username'), email: field(body, 'email'), firstName: field(body, 'firstName'), lastName: field(body, 'lastName'),
  isAdmin: checked(body, 'isAdmin'), groups: fields(body, 'groups'),
});

const formOf = async (ctx: AdminContext, user: User): Promise<UserFormValues> => ({
  username: user.username, email: user.email ?? '', firstName: user.firstName, lastName: user.lastName, isAdmin: user.isAdmin,
  groups: await ctx.services.identity.groups.namesForUser(user.id),
});

/** Whether removing or disabling this user would leave no active admin. */
async function isLastActiveAdmin(ctx: AdminContext, user: User): Promise<boolean> {
  return user.isAdmin && !user.disabled && (await ctx.services.identity.users.countActiveAdmins()) <= 1;
}

/** The same set of group names, whatever the order or repeats. */
const sameNames = (a: readonly string[], b: readonly string[]) => {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((name) => right.has(name));
};

export function userRoutes(scope: FastifyInstance, ctx: AdminContext): void {
  const { identity, webauthn } = ctx.services;
  const allGroups = () => identity.groups.list();

  // An action that signs someone out everywhere redirects to `location`, with the apps that were
  // not told parked for this admin (untold-apps.ts): the page that follows names them.
  const afterSignOut = async (request: FastifyRequest, location: string, user: User, report: LogoutReport | null | undefined) =>
    locationAfterSignOut(ctx.signOutGaps, adminOf(request).id, location, { username: user.username, apps: await untoldApps(ctx.services.clients, report) });
  const gapsOf = (request: FastifyRequest, token: string | undefined) => signOutGapsOf(ctx.signOutGaps, adminOf(request).id, token);

  async function detail(request: FastifyRequest, reply: FastifyReply, user: User, extra: { values?: UserFormValues; errors?: FieldErrors; notice?: string | null; signOutGaps?: SignOutGapsView; status?: number } = {}) {
    const passkeys = await webauthn.listPasskeys(user.id);
    return ctx.send(reply, userDetailPage({
      frame: ctx.frame(request, reply, 'users'), values: extra.values ?? await formOf(ctx, user), allGroups: await allGroups(), errors: extra.errors ?? {},
      user: { id: user.id, username: user.username, disabled: user.disabled, isSelf: user.id === adminOf(request).id, createdAt: user.createdAt },
      passkeys: passkeys.map((p) => ({ id: p.id, name: p.name, createdAt: p.createdAtMs, lastUsedAt: p.lastUsedAtMs })), notice: extra.notice,
      signOutGaps: extra.signOutGaps,
    }), extra.status);
  }

  scope.get<{ Querystring: { page?: string; notice?: string; untold?: string } }>('/users', async (request, reply) => {
    // The search box is a GET form: its field is read as any form's.
    const search = optionalField(formBody(request.query), 'q').slice(0, 100);
    const page = Math.max(1, Math.min(10_000, Number.parseInt(request.query.page ?? '1', 10) || 1));
    // One more than a page tells whether there is a next page without counting everything.
    const found = await identity.users.list({ search, limit: PAGE_SIZE + 1, offset: (page - 1) * PAGE_SIZE });
    const users = await Promise.all(found.slice(0, PAGE_SIZE).map(async (u) => ({
      id: u.id, username: u.username, name: [u.firstName, u.lastName].filter(Boolean).join(' '), email: u.email,
      groups: await identity.groups.namesForUser(u.id), isAdmin: u.isAdmin, disabled: u.disabled, passkeyCount: await webauthn.countPasskeys(u.id),
    })));
    const notice = request.query.notice === 'deleted' ? 'The user was deleted.' : null;
    const signOutGaps = notice ? await gapsOf(request, request.query.untold) : null;
    return ctx.send(reply, userListPage({ frame: ctx.frame(request, reply, 'users'), users, search, page, hasNext: found.length > PAGE_SIZE, notice, signOutGaps }));
  });

  scope.get('/users/new', async (request, reply) =>
    ctx.send(reply, newUserPage({ frame: ctx.frame(request, reply, 'users'), values: emptyUserForm, allGroups: await allGroups(), errors: {} })));

  scope.post('/users/new', async (request, reply) => {
    const values = readUserForm(formBody(request.body));
    try {
      // Groups first, so a bad choice creates nobody.
      await identity.groups.assertExist(values.groups);
      const user = await identity.users.create({ ...values, email: values.email || null });
      await identity.groups.setUserGroups(user.id, values.groups);
      await ctx.audit(request, 'user_created', { targetUserId: user.id });
      return reply.redirect(`/admin/users/${user.id}?notice=created`, 303);
    } catch (error) {
      const errors = fieldErrorsFrom(error, 'username', USER_ERROR_FIELDS);
      if (!errors) throw error;
      return ctx.send(reply, newUserPage({ frame: ctx.frame(request, reply, 'users'), values, allGroups: await allGroups(), errors }), isAppError(error) ? error.status : 400);
    }
  });

  const NOTICES: Record<string, string> = {
    created: 'User created. Next: create a sign-in link so they can register a passkey.',
    saved: 'Changes saved.',
    // Sessions carry the groups they were signed in with until the proxy checks them again.
    'groups-saved': ctx.deps.serve
      ? `Changes saved. If they are signed in, the site sees the new groups within ${ctx.deps.serve.sessionRecheckMinutes} minutes, or at their next sign-in.`
      : 'Changes saved. Apps they are signed in to see the new groups at their next sign-in, or sooner with the proxy\'s --cookie-refresh.',
    enabled: 'The user is enabled again and can sign in.', disabled: 'The user is disabled and was signed out everywhere.',
    'passkey-removed': 'The passkey was removed and the user was signed out everywhere.',
  };
  // The same when some app could not be told: signed out here, and the notice below names the rest.
  const NOTICES_WITH_GAPS: Record<string, string> = {
    disabled: 'The user is disabled and was signed out here.',
    'passkey-removed': 'The passkey was removed and the user was signed out here.',
  };

  scope.get<Params & { Querystring: { notice?: string; untold?: string } }>('/users/:id', async (request, reply) => {
    const user = await identity.users.require(request.params.id);
    const key = request.query.notice ?? '';
    const signOutGaps = NOTICES_WITH_GAPS[key] ? await gapsOf(request, request.query.untold) : null;
    return detail(request, reply, user, { notice: (signOutGaps ? NOTICES_WITH_GAPS[key] : NOTICES[key]) ?? null, signOutGaps });
  });

  scope.post<Params>('/users/:id', async (request, reply) => {
    const user = await identity.users.require(request.params.id);
    const values = readUserForm(formBody(request.body));
    try {
      await identity.groups.assertExist(values.groups);
      const groupsBefore = await identity.groups.namesForUser(user.id);
      const updated = await identity.users.update(user.id, { ...values, email: values.email || null });
      await identity.groups.setUserGroups(user.id, values.groups);
      await ctx.audit(request, 'user_updated', { targetUserId: user.id, fields: ['username', 'email', 'firstName', 'lastName', 'isAdmin', 'groups'] });
      // An admin who removed their own admin role has no console any more.
      if (updated.id === adminOf(request).id && !updated.isAdmin) return reply.redirect('/account', 303);
      const groupsChanged = !sameNames(groupsBefore, values.groups);
      return reply.redirect(`/admin/users/${user.id}?notice=${groupsChanged ? 'groups-saved' : 'saved'}`, 303);
    } catch (error) {
      const errors = fieldErrorsFrom(error, 'username', USER_ERROR_FIELDS);
      if (!errors) throw error;
      return detail(request, reply, user, { values, errors, status: isAppError(error) ? error.status : 400 });
    }
  });

  scope.post<Params>('/users/:id/enable', async (request, reply) => {
    const user = await identity.users.require(request.params.id);
    await identity.users.update(user.id, { disabled: false });
    await ctx.audit(request, 'user_updated', { targetUserId: user.id, fields: ['disabled'], disabled: false });
    return reply.redirect(`/admin/users/${user.id}?notice=enabled`, 303);
  });

  // Confirmation pages: GET explains, POST (with the box ticked) acts. A refusal known in advance
  // is shown instead of the form; the POST checks again, as things may have changed meanwhile.
  const confirmRoute = (path: string, spec: {
    title: (u: User) => string; consequences: (u: User, self: boolean) => string[]; confirmLabel: (u: User) => string; buttonLabel: string;
    refusal: (u: User) => Promise<string | null>; act: (request: FastifyRequest, reply: FastifyReply, u: User) => Promise<FastifyReply>;
  }) => {
    const render = async (request: FastifyRequest, reply: FastifyReply, user: User, confirmError: string | null, refusal: string | null, status = 200) =>
      ctx.send(reply, confirmPage({
        frame: ctx.frame(request, reply, 'users'), title: spec.title(user), consequences: spec.consequences(user, user.id === adminOf(request).id),
        action: `/admin/users/${user.id}/${path}`, confirmLabel: spec.confirmLabel(user), buttonLabel: spec.buttonLabel, cancelHref: `/admin/users/${user.id}`,
        refusal, confirmError,
      }), status);
    scope.get<Params>(`/users/:id/${path}`, async (request, reply) => {
      const user = await identity.users.require(request.params.id);
      return render(request, reply, user, null, await spec.refusal(user));
    });
    scope.post<Params>(`/users/:id/${path}`, async (request, reply) => {
      const user = await identity.users.require(request.params.id);
      if (!checked(formBody(request.body), 'confirm')) return render(request, reply, user, 'Tick this box to confirm.', null, 400);
      try {
        return await spec.act(request, reply, user);
      } catch (error) {
        // Refused after all (someone else changed things since the page was shown): say why in our words.
        if (error instanceof AppError && error.status === 409) return render(request, reply, user, null, (await spec.refusal(user)) ?? error.message, 409);
        throw error;
      }
    });
  };

  const endSessions = async (userId: string) => {
    await identity.sessions.destroyAllForUser(userId);
    return ctx.deps.logoutEverywhere?.(userId);
  };

  confirmRoute('disable', {
    title: (u) => `Disable ${u.username}?`,
    consequences: (u, self) => [
      `${displayName(u)} can no longer sign in, here or to any app.`,
      'They are signed out here now, and of every app they used that can be told (by back-channel logout); the next page names any app that could not be.',
      'Their passkeys, groups and details are kept; you can enable them again later.',
      ...(self ? ['This is you: you will be signed out too.'] : []),
    ],
    confirmLabel: (u) => `Yes, disable ${u.username} and sign them out`,
    buttonLabel: 'Disable',
    refusal: async (u) => (await isLastActiveAdmin(ctx, u)) ? `${u.username} is the only active admin. Make someone else an admin first, or nobody could manage this server.` : u.disabled ? `${u.username} is already disabled.` : null,
    async act(request, reply, u) {
      await identity.users.update(u.id, { disabled: true });
      const logout = await endSessions(u.id);
      await ctx.audit(request, 'user_updated', { targetUserId: u.id, fields: ['disabled'], disabled: true });
      return reply.redirect(await afterSignOut(request, `/admin/users/${u.id}?notice=disabled`, u, logout), 303);
    },
  });

  confirmRoute('delete', {
    title: (u) => `Delete ${u.username}?`,
    consequences: (u, self) => [
      `${displayName(u)}'s account, passkeys, group memberships and sign-in links are deleted. This cannot be undone.`,
      'They are signed out here, and of every app they used that can be told (by back-channel logout); the next page names any app that could not be.',
      'Apps that keep their own user records (not proxies) may still have theirs.',
      ...(self ? ['This is you: you will be signed out and cannot sign in again.'] : []),
    ],
    confirmLabel: (u) => `Yes, delete ${u.username} permanently`,
    buttonLabel: 'Delete user',
    refusal: async (u) => (await isLastActiveAdmin(ctx, u)) ? `${u.username} is the only active admin and cannot be deleted: nobody could manage this server afterwards. Make someone else an admin first.` : null,
    async act(request, reply, u) {
      // Deleted first: the store refuses the last admin in its own transaction.
      await identity.users.remove(u.id);
      const logout = await ctx.deps.logoutEverywhere?.(u.id);
      await ctx.audit(request, 'user_deleted', { targetUserId: u.id, username: u.username });
      return reply.redirect(u.id === adminOf(request).id ? '/login' : await afterSignOut(request, '/admin/users?notice=deleted', u, logout), 303);
    },
  });

  confirmRoute('reset-passkeys', {
    title: (u) => `Reset ${u.username}'s passkeys?`,
    consequences: (u, self) => [
      `All of ${displayName(u)}'s passkeys are removed from this server. Their devices can no longer sign in here.`,
      'They are signed out here and of every app that can be told (the next page names any that could not be), and any unused sign-in link for them stops working.',
      'Next, you create a new one-time sign-in link so they can register a new passkey.',
      ...(self ? ['This is you: you will be signed out, and need another admin to send you a link.'] : []),
    ],
    confirmLabel: (u) => `Yes, remove all passkeys of ${u.username}`,
    buttonLabel: 'Reset passkeys',
    refusal: async (u) => (await passkeyResetRefusal(ctx.services.database.db, u.id))?.message ?? null,
    async act(request, reply, u) {
      const removed = await resetPasskeys(ctx.services.database.db, u.id);
      await identity.links.revokeUnused('signin', u.id);
      const logout = await endSessions(u.id);
      await ctx.audit(request, 'passkeys_reset', { targetUserId: u.id, removed });
      return reply.redirect(u.id === adminOf(request).id ? '/login' : await afterSignOut(request, `/admin/users/${u.id}/link?reset=1`, u, logout), 303);
    },
  });

  // One passkey, for a lost device when the user has others. Like a reset, it signs the user out
  // everywhere: a session the lost device still holds must end too. The same confirmation steps
  // as confirmRoute, with the passkey as a second subject.
  const passkeyOf = async (user: User, passkeyId: string) => {
    const passkey = (await webauthn.listPasskeys(user.id)).find((p) => p.id === passkeyId);
    if (!passkey) throw passkeyNotFound();
    return passkey;
  };
  const renderPasskeyRemoval = async (request: FastifyRequest<PasskeyParams>, reply: FastifyReply, user: User, confirmError: string | null, refusal: string | null, status = 200) => {
    const passkey = await passkeyOf(user, request.params.passkeyId);
    return ctx.send(reply, confirmPage({
      frame: ctx.frame(request, reply, 'users'), title: `Remove the passkey “${passkey.name}” of ${user.username}?`,
      consequences: [
        `${displayName(user)} can no longer sign in with “${passkey.name}”. Their other passkeys keep working.`,
        'They are signed out here and of every app that can be told (the next page names any that could not be), so a session that device holds ends too; they sign in again with another passkey.',
        ...(user.id === adminOf(request).id ? ['This is you: you will be signed out too.'] : []),
      ],
      action: `/admin/users/${user.id}/passkeys/${encodeURIComponent(passkey.id)}/remove`, confirmLabel: `Yes, remove “${passkey.name}”`, buttonLabel: 'Remove passkey',
      cancelHref: `/admin/users/${user.id}`, refusal, confirmError,
    }), status);
  };
  scope.get<PasskeyParams>('/users/:id/passkeys/:passkeyId/remove', async (request, reply) => {
    const user = await identity.users.require(request.params.id);
    const refusal = await passkeyRemovalByAdminRefusal(ctx.services.database.db, user.id, request.params.passkeyId);
    if (refusal?.status === 404) throw refusal;
    return renderPasskeyRemoval(request, reply, user, null, refusal?.message ?? null);
  });
  scope.post<PasskeyParams>('/users/:id/passkeys/:passkeyId/remove', async (request, reply) => {
    const user = await identity.users.require(request.params.id);
    if (!checked(formBody(request.body), 'confirm')) return renderPasskeyRemoval(request, reply, user, 'Tick this box to confirm.', null, 400);
    let logout: LogoutReport;
    try {
      logout = await ctx.deps.passkeys.remove(user.id, request.params.passkeyId);
    } catch (error) {
      if (error instanceof AppError && error.status === 409) return renderPasskeyRemoval(request, reply, user, null, error.message, 409);
      throw error;
    }
    await ctx.audit(request, 'passkey_deleted', { targetUserId: user.id, passkeyId: request.params.passkeyId });
    return reply.redirect(user.id === adminOf(request).id ? '/login' : await afterSignOut(request, `/admin/users/${user.id}?notice=passkey-removed`, user, logout), 303);
  });

  scope.get<Params & { Querystring: { reveal?: string; reset?: string; untold?: string } }>('/users/:id/link', async (request, reply) => {
    const user = await identity.users.require(request.params.id);
    const parked = request.query.reveal ? await ctx.reveal.take(adminOf(request).id, request.query.reveal) : null;
    const link = parked ? { url: parked.url, expiresAt: Number(parked.expiresAt), qr: qrSvg(parked.url, `QR code of the sign-in link for ${user.username}`) } : null;
    return ctx.send(reply, userLinkPage({
      frame: ctx.frame(request, reply, 'users'), user, link, alreadyShown: Boolean(request.query.reveal) && !parked,
      notice: request.query.reset === '1' ? `${user.username}'s passkeys were removed. Create a link so they can register a new one.` : null,
      signOutGaps: request.query.reset === '1' ? await gapsOf(request, request.query.untold) : null,
      refusal: user.disabled ? linkRefusalForDisabled(user.username) : null,
    }));
  });

  scope.post<Params>('/users/:id/link', async (request, reply) => {
    const user = await identity.users.require(request.params.id);
    const ttlSeconds = Number(field(formBody(request.body), 'ttlSeconds'));
    if (!LINK_TTLS.has(ttlSeconds)) throw new AppError('invalid_ttl', 400, 'Choose how long the link stays valid from the list.');
    // Refused for a disabled user (409); only the newest link works, so a link sent to the wrong
    // person is withdrawn by making another. The admin API issues through the same function.
    const { token, expiresAt } = await identity.links.issueSignIn(user.id, ttlSeconds);
    await ctx.audit(request, 'one_time_link_created', { targetUserId: user.id, ttlSeconds });
    const reveal = await ctx.reveal.park(adminOf(request).id, { url: ctx.deps.linkUrl(token), expiresAt: String(expiresAt) });
    return reply.redirect(`/admin/users/${user.id}/link?reveal=${reveal}`, 303);
  });
}
