import { SESSION_RECHECK_FLAG } from '../../config/session-recheck.ts';
import { formatDurationSeconds } from '../../core/duration.ts';
import { type Check, ok, skip, warn } from '../check.ts';

// After sign-in the proxy's session is a cookie it trusts on its own. What the provider learns
// later (a user removed or disabled, a grant revoked, groups changed) reaches the proxy only by a
// back-channel logout, which a proxy that is down, restarting or unreachable misses and which no
// change of groups sends, or at the session's next refresh. oauth2-proxy's default (and the
// guide's) is never to refresh: such a change then waits for --cookie-expire, a week by default.
export const sessionRecheck: Check = {
  id: 'session-recheck',
  title: 'The proxy checks sessions with the provider (--cookie-refresh)',
  run(ctx) {
    if (!ctx.proxy) return skip('no proxy options given (--proxy-args …, --proxy-config FILE or --compose)');
    const cookie = ctx.proxy.config?.cookie;
    if (!cookie) return skip("the proxy's options do not load (see proxy-config)");
    const expire = formatDurationSeconds(cookie.expireSeconds);
    if (cookie.refreshSeconds > 0) {
      return ok(`every session is checked with the provider ${every(cookie.refreshSeconds)} (--cookie-refresh, ${ctx.proxy.source}); removals and group changes reach the site within that time`);
    }
    return warn(`the proxy never checks a session with the provider after sign-in (--cookie-refresh is 0, oauth2-proxy's default; ${ctx.proxy.source}): a user removed or disabled while the proxy could not be told (back-channel logout), and every change of groups, reach this site only when the session ends (--cookie-expire, ${expire})`,
      `in the proxy: ${SESSION_RECHECK_FLAG} (config file: cookie_refresh = "5m"; environment: OAUTH2_PROXY_COOKIE_REFRESH=5m), as latchkey generate systemd and compose set it. Behind Caddy only with the Caddyfile of latchkey generate caddy: Caddy's forward_auth drops the refreshed cookie`);
  },
};

const every = (seconds: number) => (seconds % 60 === 0 ? `every ${seconds / 60} min` : `every ${seconds} s`);
