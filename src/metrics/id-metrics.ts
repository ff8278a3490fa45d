// The identity provider's metrics: sign-ins and failures by method, request latency by route,
// and the number of active web sessions (counted in the database at scrape time).
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../core/clock.ts';
import { parseListenAddress } from '../config/listen-address.ts';
import { ConfigError } from '../config/problems.ts';
import type { Db } from '../storage/database.ts';
import { startMetricsServer, type MetricsServer } from './metrics-server.ts';
import { MetricsRegistry } from './registry.ts';

export const SIGN_IN_METHODS = ['passkey', 'one_time_link', 'setup_link', 'recovery_code', 'other'] as const;
export type SignInMethod = (typeof SIGN_IN_METHODS)[number];

const methodOf = (value: unknown): SignInMethod =>
  (SIGN_IN_METHODS as readonly unknown[]).includes(value) ? (value as SignInMethod) : 'other';

// Where a failed sign-in shows up as a refused request (the audit log records only successes there).
const FAILURE_ROUTES: Readonly<Record<string, SignInMethod>> = {
  'POST /api/webauthn/login/finish': 'passkey',
  'POST /link': 'one_time_link',
};

export interface IdMetrics {
  registry: MetricsRegistry;
  signedIn(method: unknown): void;
  signInFailed(method: unknown): void;
}

export function createIdMetrics(deps: { db: Db; clock: Clock; version: string }): IdMetrics {
  const registry = new MetricsRegistry();
  registry.gauge('latchkey_build_info', 'The running latchkey version', () => 1, { version: deps.version, role: 'id' });
  const signIns = registry.counters('latchkey_id_sign_ins_total', 'Successful sign-ins, by method', 'method', SIGN_IN_METHODS);
  const failures = registry.counters('latchkey_id_sign_in_failures_total', 'Refused sign-in attempts, by method', 'method', SIGN_IN_METHODS);
  registry.gauge('latchkey_id_active_web_sessions', 'Web sessions that have not expired (read from the database at scrape time)', async () => {
    const row = await deps.db.selectFrom('web_sessions').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('expires_at', '>', deps.clock.nowMs()).executeTakeFirst();
    return Number(row?.n ?? 0);
  });
  return {
    registry,
    signedIn: (method) => signIns[methodOf(method)].inc(),
    signInFailed: (method) => failures[methodOf(method)].inc(),
  };
}

/** Times every request by its route pattern (never the raw URL, which would grow without bound). */
export function installIdMetricsHooks(app: FastifyInstance, metrics: IdMetrics): void {
  const latency = metrics.registry.histograms('latchkey_id_http_request_duration_seconds', 'Time to answer a request, by route pattern', 'route');
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    latency.get(route).observe(reply.elapsedTime / 1000);
    if (reply.statusCode >= 400) {
      const method = FAILURE_ROUTES[`${request.method} ${route}`];
      if (method) metrics.signInFailed(method);
    }
  });
}

export interface IdMetricsEndpoint {
  metrics: IdMetrics;
  /** Starts the /metrics listener; returns its URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** METRICS_ADDRESS (host:port, :port): metrics on their own listener; null when it is not set. */
export function idMetricsEndpoint(app: FastifyInstance, input: { metricsAddress: string | null; db: Db; clock: Clock; version: string }): IdMetricsEndpoint | null {
  if (input.metricsAddress === null) return null;
  const address = parseListenAddress(input.metricsAddress);
  if ('problem' in address) throw new ConfigError([`METRICS_ADDRESS: ${address.problem}`]);
  const metrics = createIdMetrics(input);
  installIdMetricsHooks(app, metrics);
  let server: MetricsServer | null = null;
  return {
    metrics,
    async listen() {
      server = await startMetricsServer(address, metrics.registry);
      return server.url;
    },
    close: async () => { await server?.close(); },
  };
}

/** Feeds sign-ins (and the audited failures) from the audit trail into the counters. */
export function countAuditedSignIns(metrics: IdMetrics, event: { event: string; details?: Record<string, unknown> }): void {
  if (event.event === 'signin') metrics.signedIn(event.details?.method);
  else if (event.event === 'recovery_code_failed') metrics.signInFailed('recovery_code');
}
