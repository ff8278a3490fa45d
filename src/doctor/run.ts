// Runs every check against one context and collects the results as data. A check that throws is
// reported as failed with the error, so one broken check never hides the others.
import type { Check, CheckResult } from './check.ts';
import type { DoctorContext } from './context.ts';
import { appUrlForm } from './checks/app-url.ts';
import { backups } from './checks/backups.ts';
import { clientRegistration } from './checks/client-registration.ts';
import { clockSkew } from './checks/clock-skew.ts';
import { composeHealthcheck } from './checks/compose-healthcheck.ts';
import { composeProxyAddress } from './checks/compose-proxy-address.ts';
import { cookieSecret } from './checks/cookie-secret.ts';
import { cookieSize } from './checks/cookie-size.ts';
import { discoveryIssuer } from './checks/discovery-issuer.ts';
import { discoveryScheme } from './checks/discovery-scheme.ts';
import { groupsScope } from './checks/groups-scope.ts';
import { sessionRecheck } from './checks/session-recheck.ts';
import { httpsRedirect } from './checks/https-redirect.ts';
import { idHealth } from './checks/id-health.ts';
import { nginxAuthRequestSet } from './checks/nginx-auth-request-set.ts';
import { nginxDeadProxyHeaders } from './checks/nginx-dead-proxy-headers.ts';
import { nginxForwardedHost } from './checks/nginx-forwarded-host.ts';
import { nginxForwardedProto } from './checks/nginx-forwarded-proto.ts';
import { nginxAuthCache } from './checks/nginx-auth-cache.ts';
import { nginxForwardedUri } from './checks/nginx-forwarded-uri.ts';
import { nginxPrefixPriority } from './checks/nginx-prefix-priority.ts';
import { nginxAccessLogSecrets } from './checks/nginx-access-log-secrets.ts';
import { nginxPrivateCaching } from './checks/nginx-private-caching.ts';
import { nginxSignInOn401 } from './checks/nginx-sign-in-on-401.ts';
import { passkeyRecovery } from './checks/passkey-recovery.ts';
import { pocketIdVariables } from './checks/pocket-id-variables.ts';
import { protectedPath } from './checks/protected-path.ts';
import { proxyAuthEndpoint } from './checks/proxy-auth-endpoint.ts';
import { proxyConfig } from './checks/proxy-config.ts';
import { rpIdHost } from './checks/rp-id-host.ts';
import { callbackUrl, signInRedirect } from './checks/sign-in-redirect.ts';
import { siteCase } from './checks/site-case.ts';
import { databaseFileMode } from './checks/database-file-mode.ts';
import { siteLeaks } from './checks/site-leaks.ts';
import { tlsCertificate } from './checks/tls-certificate.ts';
import { trustProxy } from './checks/trust-proxy.ts';

/** In the order they are printed: configuration, the running deployment, data. */
export const CHECKS: readonly Check[] = [
  appUrlForm, pocketIdVariables, trustProxy, proxyConfig, cookieSecret, composeProxyAddress, composeHealthcheck,
  nginxPrefixPriority, nginxSignInOn401, nginxAuthRequestSet, groupsScope, sessionRecheck, nginxDeadProxyHeaders, nginxForwardedProto, nginxForwardedHost, nginxForwardedUri, nginxAuthCache, nginxPrivateCaching, nginxAccessLogSecrets, cookieSize,
  idHealth, discoveryIssuer, rpIdHost, discoveryScheme, tlsCertificate, httpsRedirect, clockSkew,
  proxyAuthEndpoint, protectedPath, signInRedirect, callbackUrl,
  clientRegistration, passkeyRecovery, databaseFileMode, siteLeaks, siteCase, backups,
];

export interface ReportedResult extends CheckResult {
  id: string;
  title: string;
}

export async function runChecks(ctx: DoctorContext, checks: readonly Check[] = CHECKS): Promise<ReportedResult[]> {
  const results: ReportedResult[] = [];
  for (const check of checks) {
    let result: CheckResult;
    try {
      result = await check.run(ctx);
    } catch (error) {
      result = { status: 'fail', detail: `the check itself failed: ${(error as Error).message}`, fix: 'report this with the command you ran' };
    }
    results.push({ id: check.id, title: check.title, ...result });
  }
  return results;
}

const MARK = { ok: '✓', warn: '⚠', fail: '✗', skip: '–' } as const;

export function formatResults(results: readonly ReportedResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${MARK[r.status]} ${r.title}`);
    lines.push(`    ${r.status === 'skip' ? 'not checked: ' : ''}${r.detail}`);
    if (r.fix) lines.push(...r.fix.split('\n').map((line, i) => `    ${i === 0 ? 'fix: ' : '     '}${line}`));
  }
  const count = (s: string) => results.filter((r) => r.status === s).length;
  lines.push('', `${count('ok')} passed, ${count('warn')} warning(s), ${count('fail')} failed, ${count('skip')} not checked`);
  return lines.join('\n');
}
