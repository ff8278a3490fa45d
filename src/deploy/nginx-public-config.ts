import { header, redactedRequestLog, redirectToHttpsServer, serverBlock, staticSiteRoot, tlsServerHead } from './nginx-parts.ts';
import type { DeploymentPlan } from './plan.ts';

// The guide's "Rollback Procedure" as a file instead of commenting out auth_request lines by hand:
// the same site, same certificate, no authentication. The id host is left out because its
// services are stopped during a rollback.

/** nginx serving the whole site publicly (rollback). */
export function generateNginxPublicConfig(plan: DeploymentPlan): string {
  const server = [
    ...tlsServerHead(plan, [plan.siteHost]),
    '',
    ...staticSiteRoot(plan),
    '',
    'location / {',
    '    try_files $uri $uri/ =404;',
    '}',
  ];
  return [
    ...header('latchkey ROLLBACK: the site with NO authentication; every page, private ones included, is public', plan),
    '# Use it only while latchkey is stopped; put the normal configuration back with',
    '# `latchkey generate nginx` (without --public), then: nginx -t && systemctl reload nginx',
    '',
    // no id host and no /oauth2/ here, but a link or callback opened during the rollback still arrives
    ...redactedRequestLog(),
    '',
    ...redirectToHttpsServer(plan, [plan.siteHost]),
    '',
    ...serverBlock(server),
    '',
  ].join('\n');
}
