// Where the proxy keeps a signed-in user's session: sealed in the cookie itself (the default, no
// server state) or, with --session-store-type=redis, in Redis behind a ticket cookie
// (redis-session-store.ts). The auth check, sign-in and sign-out only see this interface.
import type { CookieAttributes } from './cookie-header.ts';
import type { CookieCodec } from './cookie-codec.ts';
import type { ShareRefresh } from './refresher.ts';
import type { Session } from './session.ts';

export interface SessionStore {
  readonly name: string;
  /** The session the browser's cookies point at, or null (absent, tampered with, ended, expired). */
  read(sent: ReadonlyMap<string, string>): Promise<Session | null>;
  /**
   * The same answer without waiting, for a store that needs no I/O to give it (the cookie store);
   * absent on a server-side store. Lets the auth check answer within the request's own tick.
   */
  readonly readNow?: (sent: ReadonlyMap<string, string>) => Session | null;
  /** Stores `session` for `maxAgeSeconds`; returns the Set-Cookie lines for the browser. */
  write(session: Session, attrs: CookieAttributes, maxAgeSeconds: number, nowMs: number, sent: ReadonlyMap<string, string>): Promise<string[]>;
  /** Ends the session the browser sent; returns the Set-Cookie lines that delete its cookies. */
  clear(attrs: CookieAttributes, sent: ReadonlyMap<string, string>): Promise<string[]>;
  /**
   * The provider ended sessions (back-channel logout): a server-side store deletes them and tells
   * the other proxy instances; the cookie store has nothing to delete (the deny-list covers it).
   */
  endSessions(claims: { sid?: string; sub?: string }): Promise<void>;
  /**
   * Records a sign-in's OAuth state as used for `ttlSeconds`; false when it already was. A
   * server-side store answers for every instance; the cookie store has no shared state and always
   * says true (the runtime's in-memory set still refuses a replay to the same process).
   */
  claimState(state: string, ttlSeconds: number): Promise<boolean>;
  /**
   * A server-side store shared by several instances runs a session's refresh in one of them and
   * gives the others its outcome, so a rotated refresh token is never spent twice (refresher.ts).
   * Absent on the cookie store: only the refresher's in-process de-duplication applies.
   */
  readonly shareRefresh?: ShareRefresh;
  /**
   * Rejects when a server-side store cannot be reached (Redis PING), for the ready endpoint: as in
   * oauth2-proxy, an instance whose session store is away is not ready. Absent on the cookie store.
   */
  readonly verifyConnection?: () => Promise<void>;
  /** Connects (a server-side store); the server calls it before it listens. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The session sealed in the cookie (cookie-codec.ts); no I/O. */
export function cookieSessionStore(codec: CookieCodec): SessionStore {
  return {
    name: codec.name,
    async read(sent) {
      return codec.read(sent);
    },
    readNow: (sent) => codec.read(sent),
    async write(session, attrs, maxAgeSeconds, nowMs, sent) {
      return codec.write(session, attrs, maxAgeSeconds, nowMs, sent);
    },
    async clear(attrs, sent) {
      return codec.clear(attrs, sent);
    },
    async endSessions() {},
    async claimState() {
      return true;
    },
    async start() {},
    async close() {},
  };
}

/**
 * A store made on first use: the Redis store pulls in ioredis, which costs `latchkey proxy` ~8 MB
 * of RSS and ~100 ms of start (bench/proxy-start.ts) even with cookie sessions, so it is only
 * loaded when --session-store-type=redis is configured. Every method is async already.
 */
export function lazySessionStore(name: string, load: () => Promise<SessionStore>): SessionStore {
  let loading: Promise<SessionStore> | undefined;
  const store = () => (loading ??= load());
  return {
    name,
    read: async (sent) => (await store()).read(sent),
    write: async (session, attrs, maxAgeSeconds, nowMs, sent) => (await store()).write(session, attrs, maxAgeSeconds, nowMs, sent),
    clear: async (attrs, sent) => (await store()).clear(attrs, sent),
    endSessions: async (claims) => (await store()).endSessions(claims),
    claimState: async (state, ttlSeconds) => (await store()).claimState(state, ttlSeconds),
    shareRefresh: async (due, refresh) => {
      const loaded = await store();
      return loaded.shareRefresh ? loaded.shareRefresh(due, refresh) : refresh();
    },
    verifyConnection: async () => (await store()).verifyConnection?.(),
    start: async () => (await store()).start(),
    // Nothing to close if it was never used.
    close: async () => (loading ? (await loading).close() : undefined),
  };
}
