import { type Check, ok, skip, warn } from '../check.ts';
import { argsOf, type Directive, inherited, type NginxConfig, proxiesTo, servers, where } from '../nginx-config.ts';

// Some URLs carry credentials: one-time sign-in links (/lc/TOKEN), the setup link (?token=), the
// authorization code on /oauth2/callback, ID tokens in ?id_token_hint= (docs/reverse-proxies.md,
// "Secrets in URLs and the access log"). nginx's predefined "combined" format writes the request
// line and the Referer as they came, and Debian's nginx.conf logs every server block that has no
// access_log of its own in it: the guide's configuration does. Whoever reads that log (a log
// shipper, a backup) can sign in with a link that was not used yet.

// Variables that write the path or the query of a request (or of the page it came from).
const LEAKING = /\$\{?(request|request_uri|uri|document_uri|args|query_string|http_referer|arg_token|arg_code|arg_id_token_hint)\b\}?/g;
const COMBINED_WRITES = ['$request', '$http_referer'];

/** What a log format writes of those variables; null for a format the configuration does not define. */
function leakingVariables(config: NginxConfig, format: string): string[] | null {
  if (format === 'combined') return COMBINED_WRITES;
  const definition = argsOf(allDirectives(config), 'log_format').find((args) => args[0] === format);
  if (!definition) return null;
  const text = definition.slice(1).filter((part) => !part.startsWith('escape=')).join('');
  return [...new Set([...text.matchAll(LEAKING)].map((match) => `$${match[1]}`))];
}

function allDirectives(config: NginxConfig): Directive[] {
  const out: Directive[] = [];
  const walk = (block: Directive[]) => {
    for (const d of block) {
      out.push(d);
      if (d.block) walk(d.block);
    }
  };
  walk(config.root);
  return out;
}

/** What is wrong with one access_log directive, or null. */
function leakOf(config: NginxConfig, directive: Directive): string | null {
  const [path, second] = directive.args;
  if (path === 'off') return null;
  const format = second === undefined || second.includes('=') ? 'combined' : second;
  const written = leakingVariables(config, format);
  const at = `access_log ${path} (${where(directive)})`;
  if (written === null) return `${at} uses the format "${format}", which this configuration does not define: check that it writes none of $request, $request_uri, $uri, $args, $http_referer`;
  return written.length ? `${at} uses the format "${format}", which writes ${written.join(', ')} as they came` : null;
}

export const nginxAccessLogSecrets: Check = {
  id: 'nginx-access-log-secrets',
  title: 'Access logs leave out one-time links, setup tokens, codes and ID tokens',
  run(ctx) {
    if (!ctx.nginx) return skip('no nginx configuration given (--nginx-config FILE, or nginx -T | latchkey doctor --nginx-t)');
    const config = ctx.nginx;
    // The locations that pass requests on to latchkey (or to anything): the id's pages and the
    // proxy's /oauth2/callback are among them. Files nginx serves itself carry no such URL.
    const proxied = servers(config).flatMap((server) => server.locations.filter((location) => proxiesTo(location) !== null));
    if (!proxied.length) return skip('no location in the configuration passes requests on (proxy_pass)');
    // Where each location's access_log comes from (nginx takes the innermost block that has one);
    // a server with none anywhere uses the http level's, which the configuration may not show.
    const inheritsHttp = new Set<string>();
    const directives = new Set<Directive>();
    for (const location of proxied) {
      const { from } = inherited(location, 'access_log');
      if (from) for (const d of from.block ?? []) if (d.name === 'access_log') directives.add(d);
      if (!from) inheritsHttp.add(`server ${location.server.names.join(' ') || '(no server_name)'} (${where(location.server.directive)})`);
    }
    const leaks = [...directives].map((d) => leakOf(config, d)).filter((leak): leak is string => leak !== null);
    if (inheritsHttp.size) {
      const which = [...inheritsHttp];
      leaks.unshift(`${which.join(' and ')} ${which.length > 1 ? 'have' : 'has'} no access_log, so ${which.length > 1 ? 'they use' : 'it uses'} the http level's: on Debian /var/log/nginx/access.log in nginx's "combined" format, which writes ${COMBINED_WRITES.join(', ')} as they came`);
    }
    if (!leaks.length) return ok(`the ${proxied.length} location(s) that pass requests on log without the request line's path and query or the Referer (or not at all)`);
    return warn(`${leaks.join('; ')}: one-time sign-in links (/lc/TOKEN), the setup link's ?token=, authorization codes and ?id_token_hint= end up in that log, and an unused link signs in whoever reads it there`,
      'log through the map and log_format latchkey_combined that latchkey generate nginx writes ($latchkey_request and $latchkey_referer instead of $request and $http_referer; docs/reverse-proxies.md, "Secrets in URLs and the access log"), or access_log off in those server blocks');
  },
};
