// Everything the proxy needs at run time, built once from the configuration: cookie codecs, the
// OIDC client, the revocation list, header writers. Plain objects, no fastify: routes.ts
// translates HTTP into these calls, and serve mode calls them in-process.
import { type Clock, systemClock } from '../core/clock.ts';
import { type AccessRule, type ConfiguredRule, configuredRule, ruleWithQuery } from './access-rule.ts';
import type { EmailAllowList } from '../config/authenticated-emails-file.ts';
import type { ProxyConfig } from './config.ts';
import { createCookieCodec } from './cookie-codec.ts';
import { type CookieAttributes, cookieDomainFor } from './cookie-header.ts';
import { createCsrfCookies, type CsrfCookies } from './csrf.ts';
import { createExpiringSet, type ExpiringSet } from './expiring-set.ts';
import { type IdentityHeaders, identityHeaderWriter } from './headers.ts';
import { createOidcClient, isRefusal, type OidcClient } from './oidc-client.ts';
import { createRefresher, type Refresher } from './refresher.ts';
import { createOriginReader, type RequestFacts, type RequestOrigin } from './request-origin.ts';
import { createRevocations, type Revocations } from './revocations.ts';
import { cookieSessionStore, lazySessionStore, type SessionStore } from './session-store.ts';
import type { Session } from './session.ts';

/** The few pino methods the proxy uses (fastify's logger fits). */
export interface ProxyLogger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export interface ProxyDeps {
  clock?: Clock;
  /** Back-channel HTTP to the provider; defaults to nodeHttpFetch (src/core/node-http-fetch.ts). */
  fetch?: typeof fetch;
  logger?: ProxyLogger;
  /** Share one revocation list between runtimes (e.g. serve mode); default: a new one. */
  revocations?: Revocations;
  /** With --session-store-type=redis: prefix for every key and channel (default latchkey:proxy:). */
  redisKeyPrefix?: string;
  /** Told every auth decision (metrics, debug log); leave unset and the check pays nothing. */
  authObserver?: AuthObserver | null;
  /** --authenticated-emails-file kept up to date (server.ts watches it); default: the addresses as read at start. */
  emailAllowList?: EmailAllowList | null;
}

export type AuthObserver = (status: 202 | 401 | 403, session: Session | null, reason: string) => void;

export interface ProxyRuntime {
  readonly config: ProxyConfig;
  readonly clock: Clock;
  readonly logger: ProxyLogger;
  readonly authObserver: AuthObserver | null;
  readonly sessions: SessionStore;
  readonly csrf: CsrfCookies;
  readonly oidc: OidcClient;
  readonly revocations: Revocations;
  readonly refresher: Refresher;
  readonly identityHeaders: IdentityHeaders;
  readonly usedStates: ExpiringSet;
  readonly baseRule: ConfiguredRule;
  origin(request: RequestFacts): RequestOrigin;
  cookieAttributes(host: string): CookieAttributes;
  /** The configured rules plus those in an /oauth2/auth query string (cached per distinct query). */
  ruleFor(rawQuery: string): AccessRule;
  nowSeconds(): number;
  /**
   * When this runtime started (epoch seconds). Its list of sessions the provider ended
   * (revocations) is in memory, so a session last checked with the provider before this time is
   * checked again at its first use (auth-check.ts), not only when its refresh falls due.
   */
  readonly startedAtSeconds: number;
}

const silentLogger: ProxyLogger = { debug() {}, info() {}, warn() {}, error() {} };
const CACHE_LIMIT = 256;

export function createProxyRuntime(config: ProxyConfig, deps: ProxyDeps = {}): ProxyRuntime {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const revocations = deps.revocations ?? createRevocations(clock, config.cookie.expireSeconds);
  const baseRule = configuredRule(config, deps.emailAllowList ?? config.authenticatedEmails);
  const oidc = createOidcClient(config, { clock, fetch: deps.fetch });
  const attributesByHost = new Map<string, CookieAttributes>();
  const rulesByQuery = new Map<string, AccessRule>();
  const noQueryRule = ruleWithQuery(baseRule, null);
  const sessions = createSessionStore(config, revocations, logger, clock, deps.redisKeyPrefix);

  return {
    config,
    clock,
    logger,
    authObserver: deps.authObserver ?? null,
    sessions,
    csrf: createCsrfCookies(config.cookie),
    oidc,
    revocations,
    // With Redis sessions, the instances sharing it spend a refresh token once between them.
    refresher: createRefresher(config, oidc, { clock, isRefusal, logger, share: sessions.shareRefresh }),
    identityHeaders: identityHeaderWriter(config),
    usedStates: createExpiringSet(clock),
    baseRule,
    origin: createOriginReader(config, logger, clock),
    cookieAttributes(host) {
      let attrs = attributesByHost.get(host);
      if (!attrs) {
        attrs = Object.freeze({
          domain: cookieDomainFor(host, config.cookie.domains),
          path: config.cookie.path,
          secure: config.cookie.secure,
          httpOnly: config.cookie.httpOnly,
          sameSite: config.cookie.sameSite,
        });
        if (attributesByHost.size >= CACHE_LIMIT) attributesByHost.clear();
        attributesByHost.set(host, attrs);
      }
      return attrs;
    },
    ruleFor(rawQuery) {
      if (!rawQuery) return noQueryRule;
      let rule = rulesByQuery.get(rawQuery);
      if (!rule) {
        rule = ruleWithQuery(baseRule, new URLSearchParams(rawQuery));
        if (rulesByQuery.size >= CACHE_LIMIT) rulesByQuery.clear();
        rulesByQuery.set(rawQuery, rule);
      }
      return rule;
    },
    nowSeconds: () => Math.floor(clock.nowMs() / 1000),
    startedAtSeconds: Math.floor(clock.nowMs() / 1000),
  };
}

function createSessionStore(config: ProxyConfig, revocations: Revocations, logger: ProxyLogger, clock: Clock, keyPrefix: string | undefined): SessionStore {
  if (config.sessionStoreType === 'cookie' || !config.redisConnectionUrl) return cookieSessionStore(createCookieCodec(config.cookie.name, config.cookie.secret));
  const redisUrl = config.redisConnectionUrl;
  return lazySessionStore(config.cookie.name, async () => (await import('./redis-session-store.ts')).createRedisSessionStore({
    redisUrl, cookieName: config.cookie.name, cookieSecret: config.cookie.secret, revocations, keyPrefix,
    logger, clock,
  }));
}
