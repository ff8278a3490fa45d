import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Clock } from '../core/clock.ts';
import { sha256Base64url } from '../core/crypto.ts';
import type { Db } from '../storage/database.ts';
import { clientMetadataOf, loadClientRow } from './client-metadata.ts';

/**
 * oidc-provider's storage contract over `oidc_payloads`: one row per (model, id). Expiry is
 * honoured when reading, not only by the sweeper, so an expired code or token is never found even
 * if its row is still there. oidc-provider refuses a code or refresh token it finds consumed and
 * revokes what it issued, but it reads and consumes in two steps, so `consume` itself is the
 * single-use check: see `consumeOnce`.
 */
export function createAdapterFactory(db: Db, clock: Clock): (model: string) => Adapter {
  return (model) => (model === 'Client' ? clientAdapter(db) : payloadAdapter(db, clock, model));
}

/**
 * The row id under which a payload is stored. For every model but Grant, oidc-provider's id is a
 * bearer value: an opaque access or refresh token, a code, or a cookie (a Session's id is the
 * provider's session cookie, an Interaction's the interaction cookie). Those rows are keyed by its
 * SHA-256, as one-time links and web sessions are, so a copy of the database or a backup holds
 * nothing anyone can present. A Grant's id is no credential: token payloads name it (`grant_id`)
 * and the logout code matches them to Grant rows, so it stays as it is. The ids are 256-bit
 * random values, so an unsalted hash is enough (nothing to guess from).
 */
export function storedPayloadId(model: string, id: string): string {
  return model === 'Grant' ? id : sha256Base64url(id);
}

/**
 * The payload as stored: without `jti` (the id again, in plain) and, for an Interaction, without
 * the provider session cookie oidc-provider copies into it (`session.cookie`, never read back:
 * lib/models/interaction.js). `find` puts `jti` back from the id it was asked for.
 */
export function storablePayload(model: string, id: string, payload: AdapterPayload): AdapterPayload {
  if (model === 'Grant') return payload;
  const { jti, ...rest } = payload;
  const stored: AdapterPayload = jti === undefined || jti === id ? rest : payload;
  const session = stored.session as Record<string, unknown> | undefined;
  if (model === 'Interaction' && session && 'cookie' in session) {
    const { cookie: _cookie, ...kept } = session;
    return { ...stored, session: kept };
  }
  return stored;
}

function payloadAdapter(db: Db, clock: Clock, model: string): Adapter {
  const rowId = (id: string) => storedPayloadId(model, id);
  const findWhere = async (column: 'id' | 'uid' | 'user_code', value: string) => {
    const row = await db.selectFrom('oidc_payloads').select(['payload', 'expires_at', 'consumed_at'])
      .where('model', '=', model).where(column, '=', value).executeTakeFirst();
    if (!row) return undefined;
    if (row.expires_at !== null && row.expires_at <= clock.nowMs()) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
    return payload;
  };

  return {
    async upsert(id, payload, expiresInSeconds) {
      const values = {
        payload: JSON.stringify(storablePayload(model, id, payload)),
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        account_id: payload.accountId ?? null,
        expires_at: expiresInSeconds ? clock.nowMs() + expiresInSeconds * 1000 : null,
      };
      await db.insertInto('oidc_payloads').values({ model, id: rowId(id), consumed_at: null, ...values })
        .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(values))
        .execute();
    },
    async find(id) {
      const payload = await findWhere('id', rowId(id));
      if (payload && model !== 'Grant') payload.jti = id;
      return payload;
    },
    // Found by something other than its id, a payload comes back without `jti`, and oidc-provider
    // gives the instance a new random one. Its two callers only compare a Session found by uid
    // (interactionDetails, checkSessionBinding) and never save it; DeviceCode (by user code) is
    // not enabled here.
    findByUid: (uid) => findWhere('uid', uid),
    findByUserCode: (userCode) => findWhere('user_code', userCode),
    consume: (id) => consumeOnce(db, clock, model, rowId(id)),
    async destroy(id) {
      await db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', rowId(id)).execute();
    },
    // oidc-provider calls this once per token model (lib/helpers/revoke.js: access and refresh
    // tokens, codes) and destroys the Grant itself, so only this model's rows go. Deleting every
    // row with the grant id also took a pending Interaction that carries it: a second person
    // signing in in the same browser then met "This sign-in expired" (oidc-switch-user.test.ts).
    async revokeByGrantId(grantId) {
      await db.deleteFrom('oidc_payloads').where('model', '=', model).where('grant_id', '=', grantId).execute();
    },
  };
}

/**
 * Marks a payload consumed only if it was not already, in one statement: concurrent token requests
 * for one code or refresh token all find it unconsumed (on PostgreSQL they really run in parallel),
 * and exactly one of them may win (RFC 6749 §4.1.2, RFC 9700 §4.14.2). A loser is treated as a
 * reuse, exactly as oidc-provider treats a code or refresh token it finds consumed.
 */
async function consumeOnce(db: Db, clock: Clock, model: string, rowId: string): Promise<void> {
  const result = await db.updateTable('oidc_payloads').set({ consumed_at: clock.nowMs() })
    .where('model', '=', model).where('id', '=', rowId).where('consumed_at', 'is', null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 1) return;
  throw await refuseReuse(db, model, rowId);
}

// oidc-provider's own answers to a consumed grant source: lib/helpers/grant_source.js
// (consumeGrantSource: codes, device codes, CIBA requests) and lib/actions/grants/refresh_token.js.
const REUSED: Record<string, string> = {
  AuthorizationCode: 'authorization code already consumed',
  RefreshToken: 'refresh token already used',
  DeviceCode: 'device code already consumed',
  BackchannelAuthenticationRequest: 'backchannel authentication request already consumed',
  PreAuthorizedCode: 'pre-authorized code already consumed',
};

/**
 * The error for a lost consume race, after the revocation oidc-provider does on reuse. The error
 * is oidc-provider's own, so its token endpoint answers 400 invalid_grant, not 500.
 */
async function refuseReuse(db: Db, model: string, rowId: string): Promise<Error> {
  // lib/actions/authorization/respond.js: a pushed request is used once and belongs to no grant
  if (model === 'PushedAuthorizationRequest') {
    return new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
  }
  const row = await db.selectFrom('oidc_payloads').select('grant_id')
    .where('model', '=', model).where('id', '=', rowId).executeTakeFirst();
  // No row: a concurrent loser already revoked the grant (the reused code or token with it).
  if (row?.grant_id) await revokeGrant(db, row.grant_id);
  return new errors.InvalidGrant(REUSED[model] ?? `${model} already consumed`);
}

/**
 * What lib/helpers/revoke.js does on the token endpoint: every model's payloads of the grant
 * (revokeByGrantId, including the reused code or refresh token) and, since the default
 * revokeGrantPolicy is true there, the Grant itself. Without the Grant the winner's tokens are
 * refused even when the winner saves them after this delete (userinfo, refresh, introspection all
 * load the Grant).
 */
async function revokeGrant(db: Db, grantId: string): Promise<void> {
  await db.deleteFrom('oidc_payloads')
    .where((eb) => eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])]))
    .execute();
  const ctx = Provider.ctx;
  ctx?.oidc.provider.emit('grant.revoked', ctx, grantId);
}

/** Clients are managed by the clients service; the provider only reads them. */
function clientAdapter(db: Db): Adapter {
  const readOnly = async () => {
    throw new Error('OIDC clients are read-only to the provider; use the clients service');
  };
  return {
    async find(id) {
      const row = await loadClientRow(db, id);
      return row ? (clientMetadataOf(row) as AdapterPayload) : undefined;
    },
    upsert: readOnly,
    consume: readOnly,
    destroy: readOnly,
    revokeByGrantId: readOnly,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
  };
}
