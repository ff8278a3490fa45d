import { OFFLINE, type Check, combine, fail, ok, skip, warn, type CheckResult } from '../check.ts';

const WARN_SECONDS = 10;
const FAIL_SECONDS = 60;

// Failure mode 4: tokens carry iat/exp; a provider or proxy whose clock is off makes fresh tokens
// look expired (or not yet valid). The Date header of each server is its clock, to the second.
export const clockSkew: Check = {
  id: 'clock-skew',
  title: 'The identity provider, the proxy and this machine agree on the time',
  async run(ctx) {
    const targets = [
      ctx.urls.id && { name: 'identity provider', url: `${ctx.urls.id}/healthz` },
      (ctx.urls.proxy ?? ctx.urls.site) && { name: 'proxy', url: `${ctx.urls.proxy ?? ctx.urls.site}/oauth2/auth` },
    ].filter((t): t is { name: string; url: string } => !!t);
    if (!targets.length) return skip(ctx.inputs.offline ? OFFLINE : 'no URL of a running deployment given (--id-url, --site-url, --proxy-url)');
    const results: CheckResult[] = [];
    for (const target of targets) {
      const answer = await ctx.get(target.url);
      if ('error' in answer) { results.push(skip(`${target.name}: ${answer.error}`)); continue; }
      const date = Date.parse(String(answer.headers.date ?? ''));
      if (Number.isNaN(date)) { results.push(warn(`the ${target.name} sent no Date header`, 'nothing to fix in latchkey; the edge in front removed it')); continue; }
      // Date has whole seconds: a difference of one second is the header's rounding
      const skewSeconds = Math.round((date - ctx.nowMs()) / 1000);
      const said = `the ${target.name}'s clock is ${Math.abs(skewSeconds)} s ${skewSeconds > 0 ? 'ahead of' : 'behind'} this machine's`;
      const fix = 'sudo timedatectl set-ntp true on both machines, then check: timedatectl status (System clock synchronized: yes)';
      if (Math.abs(skewSeconds) > FAIL_SECONDS) results.push(fail(`${said}: fresh tokens look expired or not yet valid`, fix));
      else if (Math.abs(skewSeconds) > WARN_SECONDS) results.push(warn(`${said}`, fix));
      else results.push(ok(`${target.name}: ${skewSeconds} s`));
    }
    const measured = results.filter((r) => r.status !== 'skip');
    if (!measured.length) return skip(results.map((r) => r.detail).join('; '));
    // A fresh ID token's iat would measure the provider's signing clock directly, but getting one
    // needs a passkey sign-in; the Date header comes from the clock of the machine that answers.
    const note = 'no fresh token to read iat from (that needs a passkey sign-in); behind nginx the Date header is the edge\'s clock, so run doctor on each machine of a split setup';
    return combine(measured, `${measured.map((r) => r.detail).join('; ')} (${note})`);
  },
};
