import { OFFLINE, type Check, combine, fail, ok, skip, type CheckResult } from '../check.ts';
import { httpsOrigins } from './tls-certificate.ts';

// Failure mode 3: a visitor who types the host name arrives over http; that must become https,
// or they see the site without a secure context (no passkeys, no Secure session cookie).
export const httpsRedirect: Check = {
  id: 'https-redirect',
  title: 'Plain HTTP redirects to HTTPS',
  async run(ctx) {
    const origins = httpsOrigins(ctx);
    if (!origins.length) return skip(ctx.inputs.offline ? OFFLINE : 'no https URL given (--id-url, --site-url)');
    const results: CheckResult[] = [];
    for (const origin of origins) {
      const { hostname } = new URL(origin);
      const httpUrl = `http://${hostname}${ctx.inputs.httpPort === 80 ? '' : `:${ctx.inputs.httpPort}`}/`;
      const answer = await ctx.get(httpUrl);
      const fix = `nginx: server { listen 80; server_name ${hostname}; return 301 https://$host$request_uri; }`;
      if ('error' in answer) { results.push(fail(`${httpUrl}: ${answer.error}`, fix)); continue; }
      const location = String(answer.headers.location ?? '');
      if ([301, 302, 307, 308].includes(answer.status) && location.startsWith(`https://${hostname}`)) results.push(ok(`${httpUrl} → ${location}`));
      else results.push(fail(`${httpUrl} answered ${answer.status}${location ? ` → ${location}` : ''} instead of redirecting to https`, fix));
    }
    return combine(results, results.map((r) => r.detail).join('; '));
  },
};
