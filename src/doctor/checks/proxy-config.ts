import { type Check, fail, ok, skip } from '../check.ts';

// What `latchkey proxy` itself would refuse at start, every problem at once (oauth2-proxy's
// --config-test). Secret files inside a container are not readable here, so those are left out.
export const proxyConfig: Check = {
  id: 'proxy-config',
  title: "The proxy's options load",
  run(ctx) {
    if (!ctx.proxy) return skip('no proxy options given (--proxy-args …, --proxy-config FILE or --compose)');
    const fromCompose = ctx.proxy.source.startsWith('compose');
    const problems = ctx.proxy.problems.filter((p) => !(fromCompose && /file|no such|ENOENT|cannot be read/i.test(p)));
    if (problems.length) return fail(`${ctx.proxy.source}: ${problems.join('; ')}`, 'fix each option named above (latchkey proxy --help lists them)');
    return ok(`${ctx.proxy.source}: loads${fromCompose && ctx.proxy.problems.length ? ' (secret files inside the container not checked)' : ''}`);
  },
};
