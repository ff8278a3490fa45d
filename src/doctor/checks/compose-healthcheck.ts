import { type Check, combine, fail, skip, type CheckResult } from '../check.ts';

// The guide checks health with `curl …/health`; the endpoint is /healthz. A healthcheck on /health
// marks a working provider unhealthy (and the latchkey image has no curl: use latchkey healthcheck).
export const composeHealthcheck: Check = {
  id: 'compose-healthcheck',
  title: 'Container health checks ask the right endpoint',
  run(ctx) {
    if (!ctx.compose) return skip('no compose file given (--compose FILE)');
    const results: CheckResult[] = [];
    for (const service of ctx.compose) {
      const test = (service.healthcheck ?? []).join(' ');
      if (/\/health(?![a-z])/.test(test))
        results.push(fail(`service "${service.name}" checks its health with "${test}": /health is not an endpoint (404), so the container is always unhealthy`,
          `healthcheck: test: ["CMD", "node", "src/main.ts", "healthcheck"] (latchkey image; it asks /healthz), or curl -f http://127.0.0.1:1411/healthz`));
    }
    const checked = ctx.compose.filter((s) => s.healthcheck).map((s) => s.name);
    return combine(results, checked.length ? `health checks of ${checked.join(', ')} use real endpoints` : 'no service defines a health check');
  },
};
