import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../storage/database.ts';
import { clientMetadataOf, loadClientRow } from './client-metadata.ts';

/**
 * oidc-provider's storage contract over `oidc_payloads`: one row per (model, id). Expiry is
 * honoured when reading, not only by the sweeper, so an expired code or token is never found even
 * if its row is still there. `consume` records the time; oidc-provider itself refuses a consumed
 * code and, on reuse, revokes what it issued (RFC 9700 §4.5.3 via revokeByGrantId).
 */
export function createAdapterFactory(db: Db, clock: Clock): (model: string) => Adapter {
  return (model) => (model === 'Client' ? clientAdapter(db) : payloadAdapter(db, clock, model));
}

function payloadAdapter(db: Db, clock: Clock, model: string): Adapter {
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
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        account_id: payload.accountId ?? null,
        expires_at: expiresInSeconds ? clock.nowMs() + expiresInSeconds * 1000 : null,
      };
      await db.insertInto('oidc_payloads').values({ model, id, consumed_at: null, ...values })
        .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(values))
        .execute();
    },
    find: (id) => findWhere('id', id),
    findByUid: (uid) => findWhere('uid', uid),
    findByUserCode: (userCode) => findWhere('user_code', userCode),
    async consume(id) {
      await db.updateTable('oidc_payloads').set({ consumed_at: clock.nowMs() })
        .where('model', '=', model).where('id', '=', id).execute();
    },
    async destroy(id) {
      await db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', id).execute();
    },
    // Every model shares grant ids: revoking a grant removes its codes, access and refresh tokens.
    async revokeByGrantId(grantId) {
      await db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).execute();
    },
  };
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
