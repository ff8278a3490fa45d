import { notFound } from '../core/errors.ts';
import type { Identity } from '../identity/index.ts';
import { noPositionals, onePositional, parseSubcommand, print, usageError } from './args.ts';
import { withIdContext } from './id-context.ts';
import type { LogoutReport } from '../oidc/logout-user.ts';

const HELP = `usage: latchkey user <add|list|show|update|disable|enable|remove> …

  user add --username NAME [--email E] [--first-name F] [--last-name L] [--admin] [--group G …]
  user list [--search TEXT]
  user show <username|email>
  user update <username|email> [--email E] [--first-name F] [--last-name L] [--admin | --no-admin] [--group G …]
  user disable <username|email>      ends their sessions and withdraws their unused sign-in links; they cannot sign in
  user enable <username|email>
  user remove <username|email>

Add --json to any of them for machine-readable output.`;

const OPTIONS = {
  username: { type: 'string' }, email: { type: 'string' }, 'first-name': { type: 'string' }, 'last-name': { type: 'string' },
  admin: { type: 'boolean' }, 'no-admin': { type: 'boolean' }, group: { type: 'string', multiple: true }, search: { type: 'string' },
} as const;

const ACTIONS = ['add', 'list', 'show', 'update', 'disable', 'enable', 'remove'] as const;

async function findUser(identity: Identity, login: string) {
  const user = await identity.users.findByLogin(login);
  if (!user) throw notFound(`A user "${login}"`);
  return user;
}

export async function run(argv: string[]): Promise<number> {
  const command = parseSubcommand(argv, OPTIONS, HELP, ACTIONS);
  if (command.exitCode !== null) return command.exitCode;
  const { action, values, positionals } = command;
  // Usage errors first: a wrong command line is reported as such, without opening the database.
  let login = '';
  if (action === 'add' || action === 'list') noPositionals(positionals, action === 'add' ? 'latchkey user add --username NAME …' : 'latchkey user list [--search TEXT]');
  else login = onePositional(positionals, 'username or email', `latchkey user ${action} <username|email>`);
  return withIdContext(async ({ identity, logoutEverywhere }) => {
    // As the admin console and API do after a removal or a disabling: signed out of every app,
    // which hears back-channel logout. Called once the change is made and audited: the logout can
    // fail (a provider that cannot be built) and must not lose that record.
    const signOutOfApps = async (user: { id: string; username: string }): Promise<LogoutReport> => {
      const logout = await logoutEverywhere(user.id);
      for (const failed of logout.failedClients)
        // The tokens are dead, but a proxy's cookie session does not ask for them again before its
        // next refresh: saying "revoked" alone let an operator believe the user was out.
        console.error(`latchkey user: back-channel logout to ${failed.clientId} at ${failed.uri} failed (${failed.reason}). `
          + `${user.username}'s tokens for it are revoked, but a sign-in that app already holds is not ended: with latchkey proxy or oauth2-proxy it lasts `
          + 'until --cookie-expire (168h by default), or until its next --cookie-refresh. Check that this machine can reach that address.');
      for (const clientId of logout.clientsWithoutLogoutUri)
        // Not sent at all: the app was registered without a back-channel logout URI.
        console.error(`latchkey user: ${clientId} has no back-channel logout URI, so it was not told. `
          + `${user.username}'s tokens for it are revoked, but a sign-in that app already holds is not ended: with latchkey proxy or oauth2-proxy it lasts `
          + 'until --cookie-expire (168h by default), or until its next --cookie-refresh. So that the next sign-out reaches it, set its back-channel logout URI '
          + 'in the admin console (Apps): for latchkey proxy, https://SITE/oauth2/backchannel-logout.');
      return logout;
    };
    const describe = async (user: Awaited<ReturnType<typeof findUser>>) => ({ ...user, groups: await identity.groups.namesForUser(user.id) });
    const line = (u: Awaited<ReturnType<typeof describe>>) =>
      `${u.username}\t${u.email ?? '-'}\t${u.isAdmin ? 'admin' : 'user'}${u.disabled ? ' (disabled)' : ''}\t${u.groups.join(',') || '-'}`;
    switch (action) {
      case 'add': {
        if (!values.username) throw usageError('--username is required');
        if (values.group?.length) await identity.groups.assertExist(values.group);
        const user = await identity.users.create({ username: values.username, email: values.email ?? null, firstName: values['first-name'], lastName: values['last-name'], isAdmin: values.admin });
        if (values.group?.length) await identity.groups.setUserGroups(user.id, values.group);
        await identity.audit.record({ event: 'user_created', details: { targetUserId: user.id, via: 'cli' } });
        const shown = await describe(user);
        print(values.json, shown, () => `Added ${line(shown)}\nGive them a sign-in link: latchkey one-time-link ${user.username}`);
        return 0;
      }
      case 'list': {
        const users = await Promise.all((await identity.users.list({ search: values.search, limit: 500 })).map(describe));
        print(values.json, users, () => users.map(line).join('\n') || 'No users yet.');
        return 0;
      }
      case 'show': {
        const shown = await describe(await findUser(identity, login));
        print(values.json, shown, () => line(shown));
        return 0;
      }
      case 'update': {
        // A flag update does not apply must not look applied: renaming is the admin console's job.
        if (values.username !== undefined) throw usageError('latchkey user update cannot change a username; rename the user in the admin console (/admin/users).');
        if (values.admin && values['no-admin']) throw usageError('--admin and --no-admin contradict each other; give one.');
        const user = await findUser(identity, login);
        if (values.group) await identity.groups.assertExist(values.group);
        const updated = await identity.users.update(user.id, {
          ...(values.email !== undefined ? { email: values.email || null } : {}),
          ...(values['first-name'] !== undefined ? { firstName: values['first-name'] } : {}),
          ...(values['last-name'] !== undefined ? { lastName: values['last-name'] } : {}),
          ...(values.admin ? { isAdmin: true } : values['no-admin'] ? { isAdmin: false } : {}),
        });
        if (values.group) await identity.groups.setUserGroups(user.id, values.group);
        // as the console and the API record it: a promotion to admin above all belongs in the log
        const fields = ['email', 'first-name', 'last-name', 'admin', 'no-admin', 'group'].filter((flag) => values[flag as keyof typeof values] !== undefined);
        await identity.audit.record({ event: 'user_updated', details: { targetUserId: user.id, fields, via: 'cli' } });
        const shown = await describe(updated);
        print(values.json, shown, () => `Updated ${line(shown)}`);
        return 0;
      }
      case 'disable':
      case 'enable': {
        const user = await findUser(identity, login);
        const updated = await identity.users.update(user.id, { disabled: action === 'disable' });
        if (action === 'enable') {
          await identity.audit.record({ event: 'user_enabled', details: { targetUserId: user.id, via: 'cli' } });
          print(values.json, updated, () => `Enabled ${user.username}`);
          return 0;
        }
        await identity.sessions.destroyAllForUser(user.id);
        await identity.audit.record({ event: 'user_disabled', details: { targetUserId: user.id, via: 'cli' } });
        const logout = await signOutOfApps(user);
        print(values.json, { ...updated, logout }, () => [`Disabled ${user.username}`, ...notifiedLine(logout)].join('\n'));
        return 0;
      }
      case 'remove': {
        const user = await findUser(identity, login);
        await identity.users.remove(user.id); // first: the store refuses to remove the last admin
        await identity.audit.record({ event: 'user_deleted', details: { targetUserId: user.id, via: 'cli' } });
        const logout = await signOutOfApps(user);
        print(values.json, { removed: user.id, logout }, () => [`Removed ${user.username} and their passkeys`, ...notifiedLine(logout)].join('\n'));
        return 0;
      }
    }
  });
}

const notifiedLine = ({ notifiedClients }: LogoutReport): string[] =>
  notifiedClients.length ? [`Signed out of ${notifiedClients.join(', ')} (back-channel logout)`] : [];
