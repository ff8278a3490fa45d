import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Clock } from '../core/clock.ts';
import { deriveKey, open, seal, sha256Base64url } from '../core/crypto.ts';
import { AppError } from '../core/errors.ts';
import type { Db, DbOrTransaction } from '../storage/database.ts';

/**
 * ID-token signing keys. Only asymmetric algorithms exist here: client secrets are stored hashed,
 * so an HS* algorithm (which would use the stored value as its key) must never be offered.
 */
export type SigningAlg = 'RS256' | 'ES256';

export interface SigningKeySet {
  currentKid: string;
  /** The key that signs now: the current one, or the one before it while the current one propagates. */
  signingKid: string;
  /** Private JWKs, the signing key first: oidc-provider signs with the first key of the alg. */
  privateJwks: JWK[];
  /** Changes whenever the published set changes (rotation or a retirement); see provider.ts. */
  fingerprint: string;
}

// app_state row naming the key that signs. Moving it is a compare-and-swap, so when two processes
// race (two instances starting, or two rotations) exactly one wins and the loser's key is rolled back.
const CURRENT_KEY_STATE = 'oidc.current_signing_kid';

const sealingKey = (encryptionKey: Buffer) => deriveKey(encryptionKey, 'oidc-signing-keys');
const aadFor = (kid: string) => Buffer.from(`signing_key:${kid}`);

async function generateSigningJwk(alg: SigningAlg): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg, use: 'sig' };
}

async function insertKey(db: DbOrTransaction, clock: Clock, encryptionKey: Buffer, jwk: JWK): Promise<void> {
  const kid = jwk.kid as string;
  const sealed = seal(sealingKey(encryptionKey), Buffer.from(JSON.stringify(jwk)), aadFor(kid));
  await db.insertInto('signing_keys').values({
    kid, alg: jwk.alg as string, private_jwk_sealed: sealed.toString('base64url'),
    created_at: clock.nowMs(), superseded_at: null, retire_at: null,
  }).execute();
}

const readCurrentKid = async (db: DbOrTransaction): Promise<string | null> =>
  (await db.selectFrom('app_state').select('value').where('key', '=', CURRENT_KEY_STATE).executeTakeFirst())?.value ?? null;

/** The current key's id and algorithm (undefined when its row is gone), or null before the first key. */
async function readCurrentKey(db: DbOrTransaction): Promise<{ kid: string; alg: string | undefined } | null> {
  const kid = await readCurrentKid(db);
  if (!kid) return null;
  const row = await db.selectFrom('signing_keys').select('alg').where('kid', '=', kid).executeTakeFirst();
  return { kid, alg: row?.alg };
}

/**
 * First start: makes a key when there is none. If the current key uses another algorithm than the
 * one configured (OIDC_SIGNING_ALG changed), rotates to a key of the configured algorithm.
 */
export async function ensureSigningKey(db: Db, clock: Clock, encryptionKey: Buffer, alg: SigningAlg, options = { overlapSeconds: 24 * 3600 }): Promise<string> {
  const current = await readCurrentKey(db);
  if (current) {
    if (current.alg === alg) return current.kid;
    // Two instances starting at once both try; the loser takes the winner's key instead of failing.
    // The rotation must start from the key read here: were it to read the current key again, an
    // instance reading after the winner's rotation would rotate once more, away from the winner's key.
    return rotateSigningKey(db, clock, encryptionKey, { alg, overlapSeconds: options.overlapSeconds, from: current.kid }).then(
      (rotated) => rotated.kid,
      async (error) => { if (error instanceof AppError && error.code === 'rotation_conflict') return (await readCurrentKid(db)) as string; throw error; });
  }
  const jwk = await generateSigningJwk(alg);
  const won = await db.transaction().execute(async (trx) => {
    await insertKey(trx, clock, encryptionKey, jwk);
    const inserted = await trx.insertInto('app_state').values({ key: CURRENT_KEY_STATE, value: jwk.kid as string })
      .onConflict((oc) => oc.column('key').doNothing()).executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) throw new LostRace();
    return true;
  }).catch((error) => { if (error instanceof LostRace) return false; throw error; });
  return won ? (jwk.kid as string) : ((await readCurrentKid(db)) as string);
}

class LostRace extends Error {}

/**
 * Makes a new current key. The old one keeps being published until `retire_at`, so ID tokens and
 * logout tokens it signed stay verifiable for `overlapSeconds` (pick more than the ID token TTL).
 * When two rotations race from the same starting point, one wins and the other reports it.
 * `from` is the key the caller saw as current; when given, the rotation is refused
 * (rotation_conflict) if that key is no longer current.
 */
export async function rotateSigningKey(
  db: Db, clock: Clock, encryptionKey: Buffer, options: { alg: SigningAlg; overlapSeconds: number; from?: string },
): Promise<{ kid: string; previousKid: string | null }> {
  if (!Number.isFinite(options.overlapSeconds) || options.overlapSeconds < 0)
    throw new AppError('invalid_overlap', 400, 'The overlap must be zero or more seconds.');
  const previousKid = options.from ?? await readCurrentKid(db);
  if (!previousKid) return { kid: await ensureSigningKey(db, clock, encryptionKey, options.alg), previousKid: null };
  // Every published key must open with the one ENCRYPTION_KEY the servers have: a key sealed with
  // another one (rotate-keys run from a shell with the wrong key) made the next start of latchkey
  // id, every key reload and every backup fail, until someone deleted its row by hand.
  const previous = await db.selectFrom('signing_keys').select(['kid', 'private_jwk_sealed']).where('kid', '=', previousKid).executeTakeFirst();
  if (previous && open(sealingKey(encryptionKey), Buffer.from(previous.private_jwk_sealed, 'base64url'), aadFor(previous.kid)) === null)
    throw new AppError('rotation_wrong_key', 400, 'The configured ENCRYPTION_KEY does not open the current signing key, so no new key was made (one sealed with it would keep latchkey id from starting); use the ENCRYPTION_KEY latchkey id runs with.');
  const jwk = await generateSigningJwk(options.alg);
  const now = clock.nowMs();
  try {
    await db.transaction().execute(async (trx) => {
      await insertKey(trx, clock, encryptionKey, jwk);
      const swapped = await trx.updateTable('app_state').set({ value: jwk.kid as string })
        .where('key', '=', CURRENT_KEY_STATE).where('value', '=', previousKid).executeTakeFirst();
      if (Number(swapped.numUpdatedRows) !== 1) throw new LostRace();
      await trx.updateTable('signing_keys').set({ superseded_at: now, retire_at: now + options.overlapSeconds * 1000 })
        .where('kid', '=', previousKid).execute();
      await trx.deleteFrom('signing_keys').where('retire_at', '<=', now).execute();
    });
  } catch (error) {
    if (error instanceof LostRace)
      throw new AppError('rotation_conflict', 409, 'Another process rotated the signing key at the same time; its key is now current.');
    throw error;
  }
  return { kid: jwk.kid as string, previousKid };
}

/**
 * The keys to publish now: the current one, then superseded ones not yet retired; and the one to
 * sign with. Publish first, sign later: servers load a rotation at different moments (each checks
 * every minute, provider.ts), and a token signed with a key that the server a client asked for
 * the JWKS does not publish yet fails to verify. So for `propagationMs` after a rotation, the key
 * before it keeps signing while every server publishes both; then the new key signs. Without an
 * older key of the same algorithm still published (first key, algorithm change, zero overlap),
 * the current key signs at once.
 */
export async function loadSigningKeys(db: Db, clock: Clock, encryptionKey: Buffer, options: { propagationMs?: number } = {}): Promise<SigningKeySet> {
  const currentKid = await readCurrentKid(db);
  if (!currentKid) throw new AppError('no_signing_key', 500, 'No signing key exists yet.');
  const now = clock.nowMs();
  const rows = await db.selectFrom('signing_keys').selectAll()
    .where((eb) => eb.or([eb('kid', '=', currentKid), eb('retire_at', '>', now)]))
    .orderBy('created_at', 'desc').execute();
  const current = rows.find((row) => row.kid === currentKid);
  if (!current) throw new AppError('no_signing_key', 500, 'The current signing key is missing.');
  // The newest published key of the current algorithm that every server has had time to load
  // (rows come newest first), else the one published longest; two rotations within the window
  // fall back past both.
  const propagationMs = options.propagationMs ?? 0;
  const sameAlg = rows.filter((row) => row.alg === current.alg);
  const loadedEverywhere = (row: typeof current) => now >= row.created_at + propagationMs;
  const signingKid = loadedEverywhere(current) ? currentKid : (sameAlg.find(loadedEverywhere) ?? sameAlg[sameAlg.length - 1]).kid;
  const key = sealingKey(encryptionKey);
  const privateJwks = rows.map((row) => {
    const opened = open(key, Buffer.from(row.private_jwk_sealed, 'base64url'), aadFor(row.kid));
    if (!opened) throw new AppError('signing_key_unreadable', 500, 'A signing key could not be decrypted: is ENCRYPTION_KEY the one it was created with?');
    return JSON.parse(opened.toString('utf8')) as JWK;
  });
  privateJwks.sort((a, b) => Number(b.kid === signingKid) - Number(a.kid === signingKid));
  return { currentKid, signingKid, privateJwks, fingerprint: sha256Base64url(rows.map((r) => r.kid).sort().join(',') + `|${signingKid}`) };
}

/**
 * The algorithm of the key that is current, or null before the first start. A process that only
 * signs logout tokens (the CLI) uses it instead of its own OIDC_SIGNING_ALG, which may differ from
 * the server's: with another algorithm, ensureSigningKey would rotate the server's key.
 */
export async function currentSigningAlg(db: DbOrTransaction): Promise<SigningAlg | null> {
  return ((await readCurrentKey(db))?.alg as SigningAlg | undefined) ?? null;
}

/** Public halves only, for the CLI and doctor (the provider publishes JWKS itself). */
export const publicJwkOf = ({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart }: JWK): JWK => publicPart;

/**
 * Whether `encryptionKey` opens the current signing key (null when there is none yet): backup and
 * restore check it, so a backup never pairs a database with the wrong ENCRYPTION_KEY.
 */
export async function currentSigningKeyOpensWith(db: Db, encryptionKey: Buffer): Promise<boolean | null> {
  const currentKid = await readCurrentKid(db);
  if (!currentKid) return null;
  const row = await db.selectFrom('signing_keys').select(['kid', 'private_jwk_sealed']).where('kid', '=', currentKid).executeTakeFirst();
  return !!row && open(sealingKey(encryptionKey), Buffer.from(row.private_jwk_sealed, 'base64url'), aadFor(row.kid)) !== null;
}
