import { type Check, fail, ok, skip } from '../check.ts';

// Failure mode 1, from the configuration alone: APP_URL must be exactly the origin users open.
export const appUrlForm: Check = {
  id: 'app-url',
  title: 'APP_URL is an https origin with no path or trailing slash',
  run(ctx) {
    if (!ctx.id) return skip("no identity provider configuration given (APP_URL in the environment, or --compose with the id's service)");
    const name = ctx.id.env.APP_URL !== undefined ? 'APP_URL' : ctx.id.env.PUBLIC_APP_URL !== undefined ? 'PUBLIC_APP_URL' : null;
    if (!name) return fail(`APP_URL is not set (${ctx.id.source}): latchkey id would use http://localhost:1411, which no visitor can use`, 'APP_URL=https://id.example.com (the exact address users open)');
    const value = ctx.id.env[name]!;
    if (ctx.id.appUrlProblems.length) {
      const fixed = URL.canParse(value) ? new URL(value) : null;
      const suggestion = fixed ? `APP_URL=https://${fixed.host}` : 'APP_URL=https://id.example.com';
      return fail(`${name}="${value}" (${ctx.id.source}): ${ctx.id.appUrlProblems.join('; ')}`, suggestion);
    }
    return ok(`${name}=${value}; passkeys are bound to ${ctx.id.appUrl!.hostname}`);
  },
};
