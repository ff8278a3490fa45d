import { OFFLINE, type Check, combine, fail, ok, skip, warn, type CheckResult } from '../check.ts';

// The guide's checklist: the protected path refuses a request without a session (401) or sends it
// to sign in. Anything served with a 200 that is not a sign-in page is a private page leaking.
export const protectedPath: Check = {
  id: 'protected-path',
  title: 'Protected paths refuse visitors without a session',
  async run(ctx) {
    if (!ctx.urls.site) return skip(ctx.inputs.offline ? OFFLINE : 'no site URL given (--site-url, or --redirect-url in the proxy options)');
    const results: CheckResult[] = [];
    for (const path of ctx.privatePaths) results.push(await probePath(ctx.urls.site, path, ctx.get));
    return combine(results, `${ctx.privatePaths.join(', ')}: refused without a session`);
  },
};

async function probePath(site: string, path: string, get: (url: string) => Promise<{ status: number; headers: Record<string, unknown>; body: string } | { error: string }>): Promise<CheckResult> {
  const url = `${site}${path}`;
  const answer = await get(url);
  if ('error' in answer) return fail(`${url}: ${answer.error}`, 'start the edge (nginx) in front of the site');
  const location = String(answer.headers.location ?? '');
  if (answer.status === 401) return ok(`${url}: 401`);
  if ([301, 302, 303, 307, 308].includes(answer.status)) {
    if (/\/oauth2\/(sign_in|start)|\/authorize|\/auth\b/.test(location)) return ok(`${url}: redirect to sign-in`);
    return warn(`${url} redirects to ${location}, which is not a sign-in`, `check where ${path} leads: curl -i ${url}`);
  }
  if (answer.status === 200 && /\/oauth2\/start|\/oauth2\/sign_in/.test(answer.body)) return ok(`${url}: the sign-in page`);
  if (answer.status >= 200 && answer.status < 300)
    return fail(`${url} answered ${answer.status} with content to a visitor without a session: the private section is public`,
      `protect it: location ^~ ${path} { auth_request /oauth2/auth; error_page 401 = /oauth2/sign_in; … } (latchkey generate nginx prints a complete one)`);
  if (answer.status === 404) return warn(`${url} answered 404; is ${path} the protected path (--private-path)?`, `pass the protected prefix with --private-path`);
  if (answer.status === 500) return fail(`${url} answered 500: nginx could not ask the proxy, or the proxy answered something other than 2xx/401/403`, 'check nginx\'s error log; is the proxy listening where the upstream points (a container proxy must listen on 0.0.0.0)?');
  return fail(`${url} answered ${answer.status}`, `check nginx's error log and: curl -i ${url}`);
}
