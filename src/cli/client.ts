import { systemClock } from '../core/clock.ts';
import { AppError, isAppError } from '../core/errors.ts';
import { createClientsService, type OidcClient } from '../oidc/clients.ts';
import { noPositionals, onePositional, parseSubcommand, print, usageError } from './args.ts';
import { withIdContext } from './id-context.ts';

const HELP = `usage: latchkey client <add|list|show|secret|remove> …

  client add --name NAME --redirect-uri URI [--redirect-uri URI …] [--id ID]
             [--group G …] [--unrestricted] [--public] [--require-pkce]
             [--post-logout-redirect-uri URI …] [--backchannel-logout-uri URI]
      Prints the client ID and its secret (shown once; only a hash is kept).
      A client with no --group lets nobody in, unless --unrestricted.
  client list
  client show ID          every setting, one per line (--json: the same as JSON)
  client secret ID        replaces the secret and prints the new one
  client remove ID

For oauth2-proxy / latchkey proxy in front of https://agents.example.com:
  latchkey client add --name agents --id latchkey-site \\
    --redirect-uri https://agents.example.com/oauth2/callback \\
    --backchannel-logout-uri https://agents.example.com/oauth2/backchannel-logout --unrestricted
(--group G instead admits only members of G; groups are made in the admin console, /admin/groups.)`;

const OPTIONS = {
  name: { type: 'string' }, id: { type: 'string' }, 'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true }, 'backchannel-logout-uri': { type: 'string' },
  group: { type: 'string', multiple: true }, unrestricted: { type: 'boolean' }, public: { type: 'boolean' }, 'require-pkce': { type: 'boolean' },
} as const;

const ACTIONS = ['add', 'list', 'show', 'secret', 'remove'] as const;

/** The admin API's field names (in the clients service's messages) and the flags that set them here. */
const FLAG_OF_FIELD: Record<string, string> = {
  id: '--id', name: '--name', redirectUris: '--redirect-uri', postLogoutRedirectUris: '--post-logout-redirect-uri',
  backchannelLogoutUri: '--backchannel-logout-uri', allowedGroups: '--group',
};

/**
 * The service words its refusals for the admin API ("redirectUris: …"); someone at the shell typed
 * --redirect-uri, so say that instead. Code and status stay, so the exit status is the same.
 */
function inFlagTerms(error: unknown): unknown {
  const fields = isAppError(error) ? (error.details?.fields as Record<string, unknown> | undefined) : undefined;
  const field = fields ? Object.keys(fields).find((name) => name in FLAG_OF_FIELD) : undefined;
  if (!isAppError(error) || !field) return error;
  const flag = FLAG_OF_FIELD[field];
  const message = error.message.startsWith(`${field}: `) ? `${flag}: ${error.message.slice(field.length + 2)}` : `${flag}: ${error.message}`;
  // A refused flag value is a command line called wrongly (exit 2); anything else stays a failure.
  return error.status === 400 ? usageError(message) : new AppError(error.code, error.status, message, { cause: error, details: { ...error.details } });
}

/** `client show`: every field --json has, one per line (list keeps one line per client). */
function details(c: OidcClient): string {
  const list = (items: readonly string[]) => (items.length ? items.join(' ') : '(none)');
  return [
    `Client ID:                 ${c.id}`,
    `Name:                      ${c.name}`,
    `Type:                      ${c.isPublic ? 'public (no secret)' : 'confidential (with a secret)'}`,
    `PKCE required:             ${c.requirePkce ? 'yes' : 'no'}`,
    `Groups:                    ${c.unrestricted ? '(everyone: unrestricted)' : c.allowedGroups.join(',') || '(nobody)'}`,
    `Redirect URIs:             ${list(c.redirectUris)}`,
    `Post-logout redirect URIs: ${list(c.postLogoutRedirectUris)}`,
    `Back-channel logout URI:   ${c.backchannelLogoutUri ?? '(none)'}`,
    `Created:                   ${new Date(c.createdAt).toISOString()}`,
    `Updated:                   ${new Date(c.updatedAt).toISOString()}`,
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const command = parseSubcommand(argv, OPTIONS, HELP, ACTIONS);
  if (command.exitCode !== null) return command.exitCode;
  const { action, values, positionals } = command;
  // Usage errors first: a wrong command line is reported as such, without opening the database.
  const id = action === 'show' || action === 'secret' || action === 'remove' ? onePositional(positionals, 'client ID', `latchkey client ${action} ID`) : '';
  if (action === 'add' || action === 'list') noPositionals(positionals, action === 'add' ? 'latchkey client add --name NAME --redirect-uri URI …' : 'latchkey client list');
  return withIdContext(async ({ database, identity }) => {
    const clients = createClientsService({ db: database.db, clock: systemClock });
    const describe = (c: Awaited<ReturnType<typeof clients.get>>) =>
      `${c.id}\t${c.name}\t${c.redirectUris.join(' ')}\tgroups: ${c.unrestricted ? '(everyone)' : c.allowedGroups.join(',') || '(nobody)'}`;
    switch (action) {
      case 'add': {
        const { client, secret } = await clients.create({
          id: values.id, name: values.name ?? '', redirectUris: values['redirect-uri'] ?? [], postLogoutRedirectUris: values['post-logout-redirect-uri'],
          isPublic: values.public, requirePkce: values['require-pkce'], allowedGroups: values.group, unrestricted: values.unrestricted,
          backchannelLogoutUri: values['backchannel-logout-uri'] ?? null,
        }).catch((error: unknown) => { throw inFlagTerms(error); });
        await identity.audit.record({ event: 'client_created', clientId: client.id, details: { via: 'cli' } });
        print(values.json, { client, secret }, () => [
          `Client ID:     ${client.id}`,
          secret ? `Client secret: ${secret}\n(shown only now; latchkey keeps a hash)` : 'Public client: no secret; PKCE is required.',
          client.unrestricted || client.allowedGroups.length ? '' : 'Note: no --group and not --unrestricted, so nobody may sign in to this client yet.',
        ].filter(Boolean).join('\n'));
        return 0;
      }
      case 'list': {
        const list = await clients.list();
        print(values.json, list, () => list.map(describe).join('\n') || 'No clients yet.');
        return 0;
      }
      case 'show': {
        const client = await clients.get(id);
        print(values.json, client, () => details(client));
        return 0;
      }
      case 'secret': {
        const { client, secret } = await clients.regenerateSecret(id);
        await identity.audit.record({ event: 'client_secret_regenerated', clientId: client.id, details: { via: 'cli' } });
        print(values.json, { client, secret }, () => `New secret for ${client.id} (the old one stops working now):\n${secret}`);
        return 0;
      }
      case 'remove': {
        await clients.delete(id);
        await identity.audit.record({ event: 'client_deleted', clientId: id, details: { via: 'cli' } });
        print(values.json, { removed: id }, () => `Removed client ${id}`);
        return 0;
      }
    }
  });
}
