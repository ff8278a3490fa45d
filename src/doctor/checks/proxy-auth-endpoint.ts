import { OFFLINE, type Check, fail, ok, skip, warn } from '../check.ts';

// The guide's checklist: /oauth2/auth answers 401 without a session. nginx's auth_request accepts
// only 2xx, 401 and 403; anything else becomes a 500 for the visitor.
export const proxyAuthEndpoint: Check = {
  id: 'proxy-auth',
  title: 'The auth endpoint refuses a request without a session with 401',
  async run(ctx) {
    const base = ctx.urls.proxy ?? ctx.urls.site;
    if (!base) return skip(ctx.inputs.offline ? OFFLINE : 'no proxy or site URL given (--proxy-url, --site-url, or --redirect-url in the proxy options)');
    const url = `${base}/oauth2/auth`;
    const answer = await ctx.get(url);
    if ('error' in answer) return fail(`${url}: ${answer.error}`, 'start latchkey proxy and make /oauth2/ on the site reach it (nginx: location ^~ /oauth2/ { proxy_pass http://127.0.0.1:4180; })');
    if (answer.status === 401) return ok(`${url} answered 401`);
    if (answer.status === 202 || (answer.status >= 200 && answer.status < 300))
      return fail(`${url} answered ${answer.status} to a request without any session: everyone is let in`, 'remove the --skip-auth-route / upstream setting that lets /oauth2/auth pass, then check: curl -i ' + url);
    if (answer.status === 403) return warn(`${url} answered 403 without a session: nginx shows "forbidden" instead of sending visitors to sign in`, 'the proxy must answer 401 when there is no session; check what answers at ' + url);
    return fail(`${url} answered ${answer.status}; nginx's auth_request accepts only 2xx, 401 and 403 and shows visitors a 500 for anything else`, `make /oauth2/ reach latchkey proxy (curl -i ${url} must say 401)`);
  },
};
