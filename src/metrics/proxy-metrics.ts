// The proxy's metrics: /oauth2/auth decisions by status, sign-ins completed at the callback, and
// request latency by route. /oauth2/auth runs for every private asset, so recording one decision is
// an integer increment on a counter made at start, and the latency hook is a plain callback.
import type { FastifyInstance } from 'fastify';
import { MetricsRegistry } from './registry.ts';

export interface ProxyMetrics {
  registry: MetricsRegistry;
  authDecision(status: 202 | 401 | 403): void;
}

export function createProxyMetrics(version: string): ProxyMetrics {
  const registry = new MetricsRegistry();
  registry.gauge('latchkey_build_info', 'The running latchkey version', () => 1, { version, role: 'proxy' });
  const decisions = registry.counters('latchkey_proxy_auth_decisions_total', 'Answers of the auth endpoint (/oauth2/auth), by status: 202 allowed, 401 sign in, 403 denied', 'status', ['202', '401', '403']);
  const allowed = decisions['202'];
  const signIn = decisions['401'];
  const denied = decisions['403'];
  return {
    registry,
    authDecision(status) {
      if (status === 202) allowed.inc();
      else if (status === 401) signIn.inc();
      else denied.inc();
    },
  };
}

/** Latency by route pattern, and sign-ins finished at the callback (a redirect) or refused there. */
export function installProxyMetricsHooks(app: FastifyInstance, metrics: ProxyMetrics, proxyPrefix: string): void {
  const latency = metrics.registry.histograms('latchkey_proxy_http_request_duration_seconds', 'Time to answer a request, by route pattern', 'route');
  const signIns = metrics.registry.counters('latchkey_proxy_sign_ins_total', 'Sign-ins completed at the callback, by result', 'result', ['success', 'failure']);
  const callback = `${proxyPrefix}/callback`;
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    latency.get(route).observe(reply.elapsedTime / 1000);
    if (route === callback) (reply.statusCode < 400 ? signIns.success : signIns.failure).inc();
    done();
  });
}
