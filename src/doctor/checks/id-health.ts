import { OFFLINE, type Check, fail, ok, skip } from '../check.ts';

// The guide's checklist says `curl -f …/health`; Pocket ID 2 and latchkey answer /healthz (204).
export const idHealth: Check = {
  id: 'id-health',
  title: 'The identity provider answers its health check',
  async run(ctx) {
    if (!ctx.urls.id) return skip(ctx.inputs.offline ? OFFLINE : 'no identity provider URL given (--id-url, or APP_URL in the environment)');
    const url = `${ctx.urls.id}/healthz`;
    const answer = await ctx.get(url);
    if ('error' in answer) return fail(`${url}: ${answer.error}`, `start latchkey id (or make the edge pass ${new URL(ctx.urls.id).host} to it), then: curl -i ${url}`);
    if (answer.status === 204) return ok(`${url} answered 204 (note: the guide's /health is not the health endpoint; /healthz is)`);
    return fail(`${url} answered ${answer.status}, not 204`, `make ${new URL(ctx.urls.id).host} reach latchkey id (nginx: location / { proxy_pass http://127.0.0.1:1411; }); check with: curl -i ${url}`);
  },
};
