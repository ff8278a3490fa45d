// --session-store-type=redis, oauth2-proxy's design: the cookie holds only a ticket (a random id,
// a random secret, and a MAC under --cookie-secret); the session is sealed with the ticket's secret
// and kept in Redis under the id with a time to live. Redis alone never holds a readable session,
// and a cookie alone is worth nothing once its key is deleted (sign-out, back-channel logout).
// The auth check does one GET per request and nothing else, unless the session's refresh is due.
//
// A refresh is shared by the instances (shareRefresh): providers that rotate refresh tokens
// revoke the grant when a spent one comes back, and a browser's checks with the old cookie reach
// every instance. The first instance claims the refresh in Redis (a lock under a key derived from
// the old session's refresh token), spends the token and records the outcome there, sealed with a
// key only a holder of the old session can derive; the others wait for it and take it.
//
// Back-channel logout reaches one instance (whichever the load balancer picks). It deletes the
// provider session's tickets (indexed by sid and sub) in Redis, which every instance reads, and
// publishes the logout so each instance's in-memory deny-list also refuses a copy written back
// concurrently (e.g. by a refresh in flight).
//
// The indexes are sorted sets of ticket ids scored by when each ticket's key expires (Redis's
// clock, the one its key TTLs run on), so they hold only tickets that still work:
// - every write drops the members whose time is past (ZREMRANGEBYSCORE), so the tickets of expired
//   sessions do not pile up (a daily sign-in does not leave 365 ids after a year), and the index
//   key expires with its last ticket instead of being extended by every write;
// - a write that replaces the browser's ticket (a refresh) lowers the old ticket's score to the end
//   of its grace (REPLACED_TICKET_GRACE_MS), as it lowers the key's TTL. It does not remove it:
//   that ticket still opens its session for requests in flight, so a back-channel logout in those
//   seconds must still find and delete it. A session refreshed every minute thus has one or two
//   members, not one per refresh;
// - sign-out (clear) removes its ticket at once: the ticket is deleted with it;
// - a back-channel logout deletes the live members' sessions (expired ones have no key left) and
//   the index; by sid with sub also named, it takes the ended tickets out of the sub index too.
// An earlier version kept each index as a plain set (SADD, never pruned) under `sid:`/`sub:`. The
// sorted sets have other names (`sid-tickets:`/`sub-tickets:`) so that neither version ever meets
// the other's type (WRONGTYPE) in a rolling upgrade, and a logout still reads the old set, deletes
// the sessions it lists and drops it; untouched, the old sets expire on their own (at most a
// session's lifetime after the upgrade).
//
// A sign-in's OAuth state is marked used here too (SET NX, for the CSRF cookie's lifetime), so a
// callback replayed to another instance is refused as it is at the one that took it.
//
// While Redis is away every check fails (closed), thousands a second under load: the failures of
// the commands a request waits for are counted by an outage log (core/outage-log.ts), which tells
// the outage in a few lines, and the handlers do not log them one by one.
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { type Clock, systemClock } from '../core/clock.ts';
import { deriveKey, open, seal } from '../core/crypto.ts';
import { createOutageLog } from '../core/outage-log.ts';
import { type CookieAttributes, serializeCookie } from './cookie-header.ts';
import { createCookieCodec } from './cookie-codec.ts';
import { REFRESH_REMEMBER_MS, type RefreshOutcome } from './refresher.ts';
import type { ProxyLogger } from './proxy-runtime.ts';
import type { Revocations } from './revocations.ts';
import { type Session, sessionFromJson, sessionToJson } from './session.ts';
import type { SessionStore } from './session-store.ts';
import { warnWhenRedisTooOld } from '../core/redis-version.ts';

export interface RedisSessionStoreOptions {
  redisUrl: string;
  cookieName: string;
  cookieSecret: Buffer;
  /** This instance's deny-list, fed with logouts that other instances received. */
  revocations: Revocations;
  /** Prepended to every key and the channel; several deployments can share one Redis. */
  keyPrefix?: string;
  logger?: ProxyLogger;
  /** Times an outage in the log (default the system clock). */
  clock?: Clock;
  /** For tests; how long a ticket replaced by a refresh keeps working (default REPLACED_TICKET_GRACE_MS). */
  replacedTicketGraceMs?: number;
}

interface Ticket { id: string; secret: Buffer }

const ID_BYTES = 16;
const SECRET_BYTES = 32;
const MAC_BYTES = 16;
/** A replaced ticket (after a refresh) keeps working this long for requests already in flight. */
const REPLACED_TICKET_GRACE_MS = 10_000;
/** Sessions remembered by ticket, as the cookie codec remembers opened cookies (OPENED_LIMIT there). */
const OPENED_LIMIT = 256;

/**
 * How long an instance holds a refresh it claimed: longer than the refresh can take (the token and
 * userinfo requests time out after 10 s each, oidc-client.ts), so it lapses only if that instance
 * died mid-refresh; the session then refreshes at a check after this.
 */
const REFRESH_LOCK_MS = 30_000;
/**
 * How long a refresh's outcome answers the old session: longer than the old ticket lives once
 * replaced (REPLACED_TICKET_GRACE_MS), as long as the refresher remembers it in its own process.
 */
const REFRESH_OUTCOME_MS = REFRESH_REMEMBER_MS;
/** How long a check waits for another instance's refresh before it answers with the session it has. */
const REFRESH_WAIT_MS = 2_000;
const REFRESH_POLL_MS = 50;
const REFRESH_ID_BYTES = 16;
const silentLogger: ProxyLogger = { debug() {}, info() {}, warn() {}, error() {} };

// Claims the refresh of one session, or finds what became of it, in one step: nil when the key was
// free and now holds the caller's lock (ARGV[1], for ARGV[2] ms); otherwise the key's value, another
// instance's lock or the outcome it recorded.
const CLAIM_REFRESH_SCRIPT = `
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;

// Gives up a claimed refresh (it failed without spending the token), unless the lock is no longer ours.
const RELEASE_REFRESH_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// Redis's clock in ms, which the key TTLs run on: the scores of the index sets are times on it.
// (A script may call TIME before writing: Redis 7 replicates a script's effects, not the script.)
// tidy() drops an index's past members and makes the index expire with its last ticket (an
// emptied sorted set is deleted by Redis itself).
const INDEX_LUA = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function ms(t) return string.format('%.0f', t) end
local function tidy(index)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', ms(now))
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', index, ms(tonumber(last[2]))) end
end`;

// Stores a session under a new ticket and indexes it (see the top of the file). KEYS[1] the new
// ticket's key, KEYS[2] the replaced ticket's (or the new one's again: no ticket replaced), then the
// index keys. ARGV: the sealed session, its TTL in ms, the new ticket id, the replaced ticket id or
// '', the replaced ticket's grace in ms.
const WRITE_SCRIPT = `${INDEX_LUA}
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local replaced = ARGV[4] ~= ''
if replaced then redis.call('PEXPIRE', KEYS[2], ARGV[5], 'LT') end
for i = 3, #KEYS do
  redis.call('ZADD', KEYS[i], ms(now + tonumber(ARGV[2])), ARGV[3])
  -- XX: only where the replaced ticket is indexed (a sign-in over another user's cookie is not);
  -- LT: a ticket whose time is already shorter keeps it, as its key's TTL does (PEXPIRE LT).
  if replaced then redis.call('ZADD', KEYS[i], 'XX', 'LT', ms(now + tonumber(ARGV[5])), ARGV[4]) end
  tidy(KEYS[i])
end
return 1`;

// Takes a signed-out ticket (ARGV[1]) out of its indexes (KEYS), which then expire with their last ticket.
const UNINDEX_SCRIPT = `${INDEX_LUA}
for i = 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[1])
  tidy(KEYS[i])
end
return 1`;

// Deletes the sessions of every live ticket in an index, then the index: one step, so no ticket
// slips in between. KEYS[1] the index, KEYS[2] the set an earlier version kept under the same sid
// or sub (read and dropped too), KEYS[3] (optional) the sub index to take the ended tickets out
// of, when KEYS[1] is a sid index. ARGV[1] the session key prefix.
const END_SESSIONS_SCRIPT = `${INDEX_LUA}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ms(now), '+inf')
for _, id in ipairs(ids) do
  redis.call('DEL', ARGV[1] .. id)
  if KEYS[3] then redis.call('ZREM', KEYS[3], id) end
end
if KEYS[3] then tidy(KEYS[3]) end
redis.call('DEL', KEYS[1])
if redis.call('TYPE', KEYS[2]).ok == 'set' then
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('DEL', ARGV[1] .. id) end
  redis.call('DEL', KEYS[2])
end
return #ids`;

export function createRedisSessionStore(options: RedisSessionStoreOptions): SessionStore {
  const prefix = options.keyPrefix ?? 'latchkey:proxy:';
  const name = options.cookieName;
  const macKey = deriveKey(options.cookieSecret, 'proxy-session-ticket');
  const sessionKey = (id: string) => `${prefix}session:${name}:${id}`;
  const sessionKeyPrefix = `${prefix}session:${name}:`;
  const indexKey = (kind: 'sid' | 'sub', value: string) => `${prefix}${kind}-tickets:${name}:${value}`;
  /** The plain set an earlier version kept instead (see the top of the file): only read, at logout. */
  const legacyIndexKey = (kind: 'sid' | 'sub', value: string) => `${prefix}${kind}:${name}:${value}`;
  const indexKeys = (session: Session) => [...session.sid ? [indexKey('sid', session.sid)] : [], indexKey('sub', session.sub)];
  const replacedGraceMs = options.replacedTicketGraceMs ?? REPLACED_TICKET_GRACE_MS;
  const stateKey = (state: string) => `${prefix}used-state:${name}:${state}`;
  const refreshKey = (id: string) => `${prefix}refresh:${name}:${id}`;
  const channel = `${prefix}revocations`;
  const instanceId = randomBytes(8).toString('base64url');
  // The timeouts bound what a Redis that stops answering (rather than refusing) costs a check: the
  // auth check fails closed within seconds instead of holding nginx's subrequest open.
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true, connectTimeout: 5_000, commandTimeout: 2_000 });
  let subscriber: Redis | null = null;
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  // One outage for both connections (they reach the same server and go away together); only the
  // commands' connection answering ends it.
  const outage = createOutageLog({ backend: 'Redis', logger, clock });
  // Only used for the deletion lines of clear(): the cookie names, split parts included, are the same.
  const cookieNames = createCookieCodec(name, options.cookieSecret);

  // a KeyObject made once: node:crypto checks a raw key again at every createHmac
  const macKeyObject = createSecretKey(macKey);
  const mac = (text: string) => createHmac('sha256', macKeyObject).update(text).digest().subarray(0, MAC_BYTES);

  // A refresh is named and its outcome sealed by the old session's refresh token under
  // --cookie-secret: Redis alone neither reads the new session nor links the key to a token. The
  // name includes refreshAt, so a provider that keeps the refresh token (no rotation) still gets
  // each later refresh of the session asked for, not answered with an earlier outcome.
  const refreshIdKey = createSecretKey(deriveKey(options.cookieSecret, 'proxy-refresh-id'));
  const refreshSealKey = createSecretKey(deriveKey(options.cookieSecret, 'proxy-refresh-outcome'));
  const refreshId = (due: Session) =>
    createHmac('sha256', refreshIdKey).update(`${due.refreshAt}.${due.refreshToken}`).digest().subarray(0, REFRESH_ID_BYTES).toString('base64url');
  const outcomeKey = (due: Session) => createHmac('sha256', refreshSealKey).update(due.refreshToken).digest();
  const recordOf = (outcome: RefreshOutcome, due: Session, id: string): string | null => {
    if (outcome.kind === 'refused') return 'refused';
    if (outcome.kind === 'unavailable') return null;
    return `refreshed:${seal(outcomeKey(due), Buffer.from(sessionToJson(outcome.session)), Buffer.from(id)).toString('base64url')}`;
  };
  /** The outcome another instance recorded, or null while that instance still holds the lock. */
  const recordedOutcome = (held: string, due: Session, id: string): RefreshOutcome | null => {
    if (held === 'refused') return { kind: 'refused', cause: new Error('the provider refused this session\'s refresh at another proxy instance') };
    if (!held.startsWith('refreshed:')) return null;
    const plaintext = open(outcomeKey(due), Buffer.from(held.slice('refreshed:'.length), 'base64url'), Buffer.from(id));
    const session = plaintext ? sessionFromJson(plaintext.toString('utf8')) : null;
    // Not spent again: only a changed value (not ours) fails to open, and the next check asks anew.
    return session ? { kind: 'refreshed', session } : { kind: 'unavailable', cause: new Error('the recorded refresh of this session does not open') };
  };

  // The GET still runs for every check (a deleted key is a signed-out session), but the same
  // sealed bytes under the same ticket open to the same session (authenticated encryption, no
  // other input), so what they opened to is remembered, as the cookie codec does: keyed by the
  // whole cookie value (ticket id and secret), compared byte for byte, frozen, oldest out first.
  // Halves a check's CPU (docs/benchmarks.md, lever 29).
  const opened = new Map<string, { sealed: Buffer; session: Session }>();
  const openSession = (cookieValue: string, ticket: Ticket, sealed: Buffer): Session | null => {
    const known = opened.get(cookieValue);
    if (known && known.sealed.equals(sealed)) return known.session;
    const plaintext = open(ticket.secret, sealed, Buffer.from(ticket.id));
    const session = plaintext ? sessionFromJson(plaintext.toString('utf8')) : null;
    if (!session) return null;
    if (opened.size >= OPENED_LIMIT) opened.delete(opened.keys().next().value!);
    Object.freeze(session.groups);
    opened.set(cookieValue, { sealed, session: Object.freeze(session) });
    return session;
  };
  const encodeTicket = (ticket: Ticket) => {
    const body = `${ticket.id}.${ticket.secret.toString('base64url')}`;
    return `${body}.${mac(body).toString('base64url')}`;
  };
  const decodeTicket = (sent: ReadonlyMap<string, string>): Ticket | null => {
    const value = sent.get(name);
    if (!value) return null;
    const parts = value.split('.');
    if (parts.length !== 3 || !/^[A-Za-z0-9_-]{22}$/.test(parts[0])) return null;
    const given = Buffer.from(parts[2], 'base64url');
    const expected = mac(`${parts[0]}.${parts[1]}`);
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, expected)) return null;
    const secret = Buffer.from(parts[1], 'base64url');
    return secret.length === SECRET_BYTES ? { id: parts[0], secret } : null;
  };

  return {
    name,
    async verifyConnection() {
      await redis.ping();
      outage.answered();
    },
    async start() {
      await redis.connect();
      subscriber = redis.duplicate();
      subscriber.on('message', (_channel: string, message: string) => {
        try {
          const { from, sid, sub } = JSON.parse(message) as { from: string; sid?: string; sub?: string };
          if (from !== instanceId) options.revocations.revoke({ sid, sub });
        } catch (error) {
          logger.warn({ err: error }, 'unreadable revocation message');
        }
      });
      // ioredis reports each failed reconnection: the outage is told once, not every attempt.
      subscriber.on('error', (error) => outage.connectionFailed(error));
      redis.on('error', (error) => outage.connectionFailed(error));
      redis.on('ready', () => outage.answered());
      warnWhenRedisTooOld(redis, logger, '--redis-connection-url');
      await subscriber.subscribe(channel);
    },
    async read(sent) {
      const ticket = decodeTicket(sent);
      if (!ticket) return null;
      let sealed;
      try {
        sealed = await redis.getBuffer(sessionKey(ticket.id));
      } catch (error) {
        throw outage.requestFailed(error);
      }
      outage.answered();
      return sealed ? openSession(sent.get(name)!, ticket, sealed) : null;
    },
    async write(session, attrs, maxAgeSeconds, nowMs, sent) {
      // Always a new ticket: a ticket planted in the browser before sign-in never names the new session.
      const ticket: Ticket = { id: randomBytes(ID_BYTES).toString('base64url'), secret: randomBytes(SECRET_BYTES) };
      const ttlMs = Math.max(1, maxAgeSeconds) * 1000;
      const sealed = seal(ticket.secret, Buffer.from(sessionToJson(session)), Buffer.from(ticket.id));
      const previous = decodeTicket(sent);
      const keys = [sessionKey(ticket.id), sessionKey(previous?.id ?? ticket.id), ...indexKeys(session)];
      try {
        await redis.eval(WRITE_SCRIPT, keys.length, ...keys, sealed, ttlMs, ticket.id, previous?.id ?? '', replacedGraceMs);
      } catch (error) {
        throw outage.requestFailed(error);
      }
      return [serializeCookie(name, encodeTicket(ticket), attrs, maxAgeSeconds, nowMs)];
    },
    async clear(attrs: CookieAttributes, sent) {
      const ticket = decodeTicket(sent);
      // The indexes are named by the session's sub and sid, which only the opened session tells.
      const sealed = ticket ? await redis.getdelBuffer(sessionKey(ticket.id)).catch((error: unknown) => { throw outage.requestFailed(error); }) : null;
      const session = sealed ? openSession(sent.get(name)!, ticket!, sealed) : null;
      if (session) {
        // Signed out already; a ticket left in an index is only dropped later, when its time is past.
        const keys = indexKeys(session);
        await redis.eval(UNINDEX_SCRIPT, keys.length, ...keys, ticket!.id)
          .catch((error: unknown) => logger.warn({ err: error }, 'taking a signed-out ticket out of its logout index in Redis failed'));
      }
      return cookieNames.clear(attrs, sent);
    },
    async endSessions({ sid, sub }) {
      // Back-Channel Logout §2.7: the sid's sessions, or with only sub, every session of the user.
      const kind = sid ? 'sid' : sub ? 'sub' : null;
      if (!kind) return;
      const value = (sid || sub)!;
      const keys = [indexKey(kind, value), legacyIndexKey(kind, value), ...sid && sub ? [indexKey('sub', sub)] : []];
      await redis.eval(END_SESSIONS_SCRIPT, keys.length, ...keys, sessionKeyPrefix);
      await redis.publish(channel, JSON.stringify({ from: instanceId, sid, sub }));
    },
    async shareRefresh(due, refresh) {
      const id = refreshId(due);
      const key = refreshKey(id);
      const lock = `lock:${randomBytes(12).toString('base64url')}`;
      const giveUpAtMs = Date.now() + REFRESH_WAIT_MS;
      for (;;) {
        const held = await redis.eval(CLAIM_REFRESH_SCRIPT, 1, key, lock, REFRESH_LOCK_MS) as string | null;
        if (held === null) break;
        const recorded = recordedOutcome(held, due, id);
        if (recorded) return recorded;
        // Waiting longer would hold up the page; the session is still valid, and a later check asks again.
        if (Date.now() >= giveUpAtMs) return { kind: 'unavailable', cause: new Error('another proxy instance is refreshing this session') };
        await sleep(REFRESH_POLL_MS);
      }
      const outcome = await refresh();
      try {
        const record = recordOf(outcome, due, id);
        // A failure that spent nothing (network) frees the refresh for the next check, here or elsewhere.
        if (record === null) await redis.eval(RELEASE_REFRESH_SCRIPT, 1, key, lock);
        else await redis.set(key, record, 'PX', REFRESH_OUTCOME_MS);
      } catch (error) {
        // The lock stays until it lapses: the other instances keep their sessions meanwhile and spend nothing.
        logger.warn({ err: error }, 'recording a session refresh in Redis failed');
      }
      return outcome;
    },
    async claimState(state, ttlSeconds) {
      // SET NX: of two instances handed the same callback, exactly one stores the key and proceeds.
      const stored = await redis.set(stateKey(state), '1', 'PX', Math.max(1, ttlSeconds) * 1000, 'NX').catch((error: unknown) => { throw outage.requestFailed(error); });
      return stored === 'OK';
    },
    async close() {
      await Promise.all([redis, subscriber].map((client) => client?.quit().catch(() => client.disconnect())));
    },
  };
}
