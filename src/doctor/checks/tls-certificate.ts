import { OFFLINE, type Check, combine, fail, ok, skip, warn, type CheckResult } from '../check.ts';
import type { DoctorContext } from '../context.ts';

const DAY_MS = 86_400_000;
const WARN_DAYS = 14;

export const httpsOrigins = (ctx: DoctorContext): string[] =>
  [...new Set([ctx.urls.id, ctx.urls.site].filter((u): u is string => !!u && u.startsWith('https://')).map((u) => new URL(u).origin))];

// Failure mode 3: passkeys need a secure context; a certificate the browser refuses is no HTTPS.
export const tlsCertificate: Check = {
  id: 'tls-certificate',
  title: 'HTTPS certificates are valid for their host names and not about to expire',
  async run(ctx) {
    const origins = httpsOrigins(ctx);
    if (!origins.length) return skip(ctx.inputs.offline ? OFFLINE : 'no https URL given (--id-url, --site-url)');
    const results: CheckResult[] = [];
    for (const origin of origins) {
      const host = new URL(origin).hostname;
      const answer = await ctx.get(`${origin}/`);
      if ('error' in answer) { results.push(fail(`${origin}: ${answer.error}`, `serve ${host} over https`)); continue; }
      const tls = answer.tls!;
      const validTo = tls.certificate ? Date.parse(tls.certificate.valid_to) : NaN;
      const daysLeft = Math.floor((validTo - ctx.nowMs()) / DAY_MS);
      const renew = `renew it: certbot certonly -d ${host} (or your CA's tool), then reload nginx (latchkey serve with --tls-cert takes the renewed files by itself within a minute)`;
      if (!tls.authorized) {
        const why = tls.error === 'CERT_HAS_EXPIRED' ? `expired on ${tls.certificate?.valid_to}`
          : tls.error === 'ERR_TLS_CERT_ALTNAME_INVALID' ? `does not name ${host} (it names ${tls.certificate?.subjectaltname ?? tls.certificate?.subject?.CN})`
            : `is not trusted (${tls.error}): browsers refuse it, and passkeys with it`;
        results.push(fail(`${origin}: the certificate ${why}`, tls.error === 'CERT_HAS_EXPIRED' ? renew
          : `install a certificate for ${host} from a public CA with its full chain (fullchain.pem): certbot certonly -d ${host} (a private CA: pass it to doctor with --ca-file)`));
      } else if (daysLeft < WARN_DAYS) {
        results.push(warn(`${origin}: the certificate expires in ${daysLeft} days (${tls.certificate?.valid_to})`, `${renew}; check that certbot's renewal timer runs: systemctl list-timers certbot`));
      } else results.push(ok(`${origin}: valid, ${daysLeft} days left`));
    }
    return combine(results, results.map((r) => r.detail).join('; '));
  },
};
