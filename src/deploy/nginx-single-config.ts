import { forwardedHeaders, header, indent, pageBuffers, redactedRequestLog, redirectToHttpsServer, secretLinkLocations, serverBlock, tlsServerHead, upstreamBlock } from './nginx-parts.ts';
import type { DeploymentPlan } from './plan.ts';

// nginx only terminates TLS in front of one `latchkey serve` process, which serves the site,
// checks protected prefixes and runs the identity provider and the proxy itself. Both host
// names go to it; it tells them apart by Host, which is why Host is passed on unchanged.

/** nginx in front of `latchkey serve`. */
export function generateNginxSingleConfig(plan: DeploymentPlan): string {
  const proxying = ['proxy_pass http://latchkey_serve;', ...forwardedHeaders(plan), ...pageBuffers];
  const server = [
    ...tlsServerHead(plan, [plan.siteHost, plan.idHost]),
    '',
    'location / {',
    ...indent(proxying, 1),
    '}',
    '',
    ...secretLinkLocations(plan, proxying),
  ];
  return [
    ...header('latchkey: nginx terminates TLS in front of one `latchkey serve` process', plan),
    ...upstreamBlock('latchkey_serve', plan.serveUpstream),
    '',
    ...redactedRequestLog(),
    '',
    ...redirectToHttpsServer(plan, [plan.siteHost, plan.idHost]),
    '',
    ...serverBlock(server),
    '',
  ].join('\n');
}
