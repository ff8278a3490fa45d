import { requestedScopes } from '../../config/build-proxy-config.ts';
import { type Check, fail, ok, skip } from '../check.ts';
import { groupRules } from '../nginx-config.ts';

// A group rule is decided from the groups claim of the session, and latchkey id (like Pocket ID)
// puts that claim in tokens only for the `groups` scope. The proxy asks for it by itself only with
// its own --allowed-group and no --scope; nginx's /oauth2/auth?allowed_groups=… is a question the
// proxy never sees at sign-in. Without the scope every session has no groups, and every member of
// the group is refused (403) as if they were not one.
export const groupsScope: Check = {
  id: 'groups-scope',
  title: 'Group rules come with the groups scope, so sessions carry groups',
  run(ctx) {
    const nginxRules = ctx.nginx ? groupRules(ctx.nginx) : [];
    const rules = nginxRules.map((r) => `nginx asks allowed_groups=${r.groups.join(',')} (${r.where})`);
    if (!ctx.proxy) {
      if (rules.length) return skip(`${rules.join('; ')}; whether the proxy asks for the groups scope needs its options (--proxy-args …, --proxy-config FILE or --compose)`);
      return ctx.nginx ? ok('no location of the nginx configuration asks for groups (allowed_groups=)')
        : skip('no proxy options or nginx configuration given (--proxy-args …, --proxy-config FILE, --compose, --nginx-config FILE)');
    }
    const raw = ctx.proxy.raw;
    const allowed = raw.get('allowed-group');
    const proxyGroups = Array.isArray(allowed) ? allowed : [];
    if (proxyGroups.length) rules.push(`the proxy has --allowed-group=${proxyGroups.join(',')}`);
    if (!rules.length) {
      return ctx.nginx ? ok('no group rules: neither nginx (allowed_groups=) nor the proxy (--allowed-group) asks for groups')
        : skip('the proxy has no --allowed-group; group rules in nginx (allowed_groups=) need its configuration (--nginx-config FILE, or nginx -T | latchkey doctor --nginx-t)');
    }
    const scope = raw.get('scope');
    const scopeText = typeof scope === 'string' && scope.trim() ? scope.trim() : undefined;
    const scopes = ctx.proxy.config?.scopes ?? requestedScopes({ text: scopeText, set: raw.has('scope') }, proxyGroups);
    const asked = `the proxy asks for the scopes "${scopes.join(' ')}"${raw.has('scope') ? ` (--scope, ${ctx.proxy.source})` : ' (the default)'}`;
    if (scopes.includes('groups')) return ok(`${rules.join('; ')}; ${asked}`);
    const wanted = [...scopes, 'groups'].join(' ');
    return fail(`${rules.join('; ')}, but ${asked}, without groups: the provider then puts no groups claim in its tokens, sessions carry no groups, and every member of the group is refused as if they were not one`,
      `in the proxy: --scope="${wanted}" (config file: scope = "${wanted}"; environment: OAUTH2_PROXY_SCOPE="${wanted}"), then sign in again: a session keeps the groups of its sign-in`);
  },
};
