import { type Check, combine, fail, skip, warn, type CheckResult } from '../check.ts';

// The guide's Pocket ID environment is from an older Pocket ID: PUBLIC_APP_URL was renamed
// APP_URL, DB_PROVIDER is gone, and ENCRYPTION_KEY (required since Pocket ID 2) is missing.
export const pocketIdVariables: Check = {
  id: 'id-variables',
  title: "The identity provider's environment uses current variable names",
  run(ctx) {
    if (!ctx.id) return skip("no identity provider configuration given (APP_URL in the environment, or --compose with the id's service)");
    const env = ctx.id.env;
    const results: CheckResult[] = [];
    if (env.PUBLIC_APP_URL !== undefined)
      results.push(env.APP_URL === undefined
        ? warn(`PUBLIC_APP_URL is set (${ctx.id.source}): the old name, accepted with a warning`, `rename it: APP_URL=${env.PUBLIC_APP_URL}`)
        : warn(`PUBLIC_APP_URL and APP_URL are both set (${ctx.id.source}); PUBLIC_APP_URL is ignored`, 'remove PUBLIC_APP_URL'));
    if (env.DB_PROVIDER !== undefined) results.push(warn(`DB_PROVIDER=${env.DB_PROVIDER} is set (${ctx.id.source}) and ignored: DB_CONNECTION_STRING alone chooses SQLite or PostgreSQL`, 'remove DB_PROVIDER'));
    const local = ctx.id.appUrl && ['localhost', '127.0.0.1'].includes(ctx.id.appUrl.hostname);
    if (env.ENCRYPTION_KEY === undefined && env.ENCRYPTION_KEY_FILE === undefined && !local)
      results.push(fail(`ENCRYPTION_KEY is not set (${ctx.id.source}): latchkey id (and Pocket ID 2) refuse to start without it`,
        'openssl rand -base64 32 > encryption_key; ENCRYPTION_KEY_FILE=/run/secrets/encryption_key (a compose secret), and keep a copy of the key apart from your backups'));
    return combine(results, 'APP_URL, no retired variables, ENCRYPTION_KEY set');
  },
};
