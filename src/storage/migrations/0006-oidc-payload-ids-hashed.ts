import type { Kysely } from 'kysely';
import { sha256Base64url } from '../../core/crypto.ts';

interface PayloadRow { model: string; id: string; payload: string }

// oidc_payloads rows are now keyed by the SHA-256 of oidc-provider's id for every model but Grant,
// and hold no plain id (`jti`) nor an Interaction's copy of the session cookie: those ids are
// bearer tokens, codes and cookies (src/oidc/adapter.ts, storedPayloadId and storablePayload).
// This rewrites the rows made before, so signed-in users and issued tokens keep working. It is
// written out here rather than calling the adapter's functions: a migration must keep doing what
// it did when databases were migrated with it. Runs in the migration's transaction (both
// backends), so a crash leaves every row as it was and the next start does it again.
export async function up(untyped: Kysely<unknown>): Promise<void> {
  const db = untyped as Kysely<{ oidc_payloads: PayloadRow }>;
  const rows = await db.selectFrom('oidc_payloads').select(['model', 'id', 'payload']).where('model', '!=', 'Grant').execute();
  for (const row of rows) {
    const payload = JSON.parse(row.payload) as { jti?: unknown; session?: { cookie?: unknown } };
    if (payload.jti === row.id) delete payload.jti;
    if (row.model === 'Interaction' && payload.session) delete payload.session.cookie;
    await db.updateTable('oidc_payloads').set({ id: sha256Base64url(row.id), payload: JSON.stringify(payload) })
      .where('model', '=', row.model).where('id', '=', row.id).execute();
  }
}
