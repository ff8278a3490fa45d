import { hostOnPort } from '../../deploy/nginx-parts.ts';
import { OFFLINE, type Check, combine, fail, ok, skip, type CheckResult } from '../check.ts';
import type { DoctorContext } from '../context.ts';
import { httpsOrigins } from './tls-certificate.ts';

/**
 * Where to send the plain-HTTP request for `hostname`. --resolve is curl's: one entry per
 * HOST:PORT. Given only for the https port (what checking before DNS needs for every other check),
 * plain HTTP on the same host name is asked at the same address, and the result says so; its own
 * HOST:HTTP-PORT entry wins.
 */
function plainHttpAddress(ctx: DoctorContext, hostname: string, httpsPort: string): { address?: string; note: string } {
  const { resolve, httpPort } = ctx.inputs;
  if (resolve.has(`${hostname}:${httpPort}`)) return { note: '' };
  const address = resolve.get(`${hostname}:${httpsPort}`);
  return address ? { address, note: ` (asked at ${address}, the address of --resolve ${hostname}:${httpsPort}:${address}; add --resolve ${hostname}:${httpPort}:ADDRESS if plain HTTP is elsewhere)` } : { note: '' };
}

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
      const { hostname, port } = new URL(origin);
      const httpUrl = `http://${hostname}${ctx.inputs.httpPort === 80 ? '' : `:${ctx.inputs.httpPort}`}/`;
      const { address, note } = plainHttpAddress(ctx, hostname, port || '443');
      const answer = await ctx.get(httpUrl, undefined, address);
      // as latchkey generate nginx writes it: $host alone drops a port other than 443
      const fix = `nginx: server { listen ${ctx.inputs.httpPort}; server_name ${hostname}; return 301 https://${hostOnPort(Number(port || 443))}$request_uri; }`;
      if ('error' in answer) {
        const resolveHint = !address && /does not resolve/.test(answer.error) && ctx.inputs.resolve.size ? ` (--resolve has no entry for ${hostname}:${ctx.inputs.httpPort} or ${hostname}:${port || '443'})` : '';
        results.push(fail(`${httpUrl}: ${answer.error}${note}${resolveHint}`, fix));
        continue;
      }
      const location = String(answer.headers.location ?? '');
      const redirects = [301, 302, 307, 308].includes(answer.status);
      const target = URL.canParse(location) ? new URL(location) : null;
      if (redirects && target?.origin === origin) results.push(ok(`${httpUrl} → ${location}${note}`));
      else if (redirects && target?.protocol === 'https:' && target.hostname === hostname)
        results.push(fail(`${httpUrl} → ${location}, not ${origin}: visitors are sent to another port than the site's${note}`, fix));
      else results.push(fail(`${httpUrl} answered ${answer.status}${location ? ` → ${location}` : ''} instead of redirecting to https${note}`, fix));
    }
    return combine(results, results.map((r) => r.detail).join('; '));
  },
};
