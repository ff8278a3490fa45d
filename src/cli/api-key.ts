import { noPositionals, onePositional, parseSubcommand, print } from './args.ts';
import { withIdContext } from './id-context.ts';
import type { ListedApiKey } from '../identity/api-keys.ts';

const HELP = `usage: latchkey api-key <create --name NAME | list | revoke ID> [--json]

Admin API keys are sent in the X-API-KEY header. A new key is shown once.
An ID that starts with "-" (made by an older latchkey) goes after --: latchkey api-key revoke -- -Xy…`;

const ACTIONS = ['create', 'list', 'revoke'] as const;

/** Why the server refuses a listed key (the rule its verify() applies), at the end of its line. */
const refusalNote = (key: ListedApiKey): string =>
  key.refusal === 'expired' ? `\tREFUSED: expired ${new Date(key.expiresAt!).toISOString()}`
    : key.refusal === 'creator_not_active_admin' ? '\tREFUSED: its creator is no longer an active admin' : '';

export async function run(argv: string[]): Promise<number> {
  const command = parseSubcommand(argv, { name: { type: 'string' } }, HELP, ACTIONS);
  if (command.exitCode !== null) return command.exitCode;
  const { action, values, positionals } = command;
  // Usage errors first: a wrong command line is reported as such, without opening the database.
  const id = action === 'revoke' ? onePositional(positionals, 'API key ID', 'latchkey api-key revoke ID') : '';
  if (action !== 'revoke') noPositionals(positionals, action === 'create' ? 'latchkey api-key create --name NAME' : 'latchkey api-key list');
  return withIdContext(async ({ identity }) => {
    if (action === 'create') {
      const { key, apiKey } = await identity.apiKeys.create({ name: values.name ?? '' });
      await identity.audit.record({ event: 'api_key_created', details: { apiKeyId: apiKey.id, name: apiKey.name, via: 'cli' } });
      print(values.json, { ...apiKey, key }, () => `API key "${apiKey.name}" (id ${apiKey.id}). It is shown only now:\n${key}`);
      return 0;
    }
    if (action === 'list') {
      const keys = await identity.apiKeys.list();
      print(values.json, keys, () => keys.map((k) => `${k.id}\t${k.name}\tby ${k.createdBy ?? 'the command line'}\tlast used ${k.lastUsedAt ? new Date(k.lastUsedAt).toISOString() : 'never'}${refusalNote(k)}`).join('\n') || 'No API keys.');
      return 0;
    }
    await identity.apiKeys.revoke(id);
    await identity.audit.record({ event: 'api_key_revoked', details: { apiKeyId: id, via: 'cli' } });
    print(values.json, { revoked: id }, () => `Revoked ${id}`);
    return 0;
  });
}
