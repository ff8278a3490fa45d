import { badRequest } from '../core/errors.ts';
import { parseSubcommand, print } from './args.ts';
import { withIdContext } from './id-context.ts';

const HELP = 'usage: latchkey api-key <create --name NAME | list | revoke ID> [--json]\n\nAdmin API keys are sent in the X-API-KEY header. A new key is shown once.';

export async function run(argv: string[]): Promise<number> {
  const command = parseSubcommand(argv, { name: { type: 'string' } }, HELP);
  if (command.exitCode !== null) return command.exitCode;
  const { action, values, positionals } = command;
  return withIdContext(async ({ identity }) => {
    if (action === 'create') {
      const { key, apiKey } = await identity.apiKeys.create({ name: values.name ?? '' });
      await identity.audit.record({ event: 'api_key_created', details: { apiKeyId: apiKey.id, name: apiKey.name, via: 'cli' } });
      print(values.json, { ...apiKey, key }, () => `API key "${apiKey.name}" (id ${apiKey.id}). It is shown only now:\n${key}`);
      return 0;
    }
    if (action === 'list') {
      const keys = await identity.apiKeys.list();
      print(values.json, keys, () => keys.map((k) => `${k.id}\t${k.name}\tby ${k.createdBy ?? 'the command line'}\tlast used ${k.lastUsedAt ? new Date(k.lastUsedAt).toISOString() : 'never'}${k.honoured ? '' : '\tREFUSED: its creator is no longer an active admin'}`).join('\n') || 'No API keys.');
      return 0;
    }
    if (action === 'revoke') {
      await identity.apiKeys.revoke(positionals[0] ?? '');
      await identity.audit.record({ event: 'api_key_revoked', details: { apiKeyId: positionals[0], via: 'cli' } });
      print(values.json, { revoked: positionals[0] }, () => `Revoked ${positionals[0]}`);
      return 0;
    }
    throw badRequest('invalid_arguments', `unknown action "${action}"\n\n${HELP}`);
  });
}
