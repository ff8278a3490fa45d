import { type Check, fail, ok, skip, warn } from '../check.ts';
import { isProtected, isRegex, servers, where } from '../nginx-config.ts';

// nginx checks regex locations after prefix locations and lets a matching regex win unless the
// prefix is marked ^~. A regex location for feeds (~* \.xml$) then serves /private/index.xml,
// Hugo's full-text RSS of the private section, to anyone.
export const nginxPrefixPriority: Check = {
  id: 'nginx-prefix-priority',
  title: 'No regex location can take a protected URL away from its auth check',
  run(ctx) {
    if (!ctx.nginx) return skip('no nginx configuration given (--nginx-config FILE, or nginx -T | latchkey doctor --nginx-t)');
    const problems: { text: string; regex: boolean }[] = [];
    for (const server of servers(ctx.nginx)) {
      const regexes = server.locations.filter(isRegex);
      for (const location of server.locations.filter((l) => isProtected(l) && l.modifier === '' && l.parents.length === 1)) {
        const name = `location ${location.path} (${where(location.directive)})`;
        if (regexes.length) problems.push({ regex: true, text: `${name} has no ^~ and the same server has ${regexes.map((r) => `location ${r.modifier} ${r.path} (${where(r.directive)})`).join(', ')}: a matching URL under ${location.path} is served by the regex location, without auth` });
        else problems.push({ regex: false, text: `${name} has no ^~: the first regex location anyone adds (for feeds, images…) will serve files under ${location.path} without auth` });
      }
    }
    if (!problems.length) return ok('every protected prefix location is ^~ (or exact)');
    const fix = 'write the protected prefix as location ^~ /private/ { … } (and location ^~ /oauth2/ { … })';
    const text = problems.map((p) => p.text).join('; ');
    return problems.some((p) => p.regex) ? fail(text, fix) : warn(text, fix);
  },
};
