import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { sha256Base64url } from '../core/crypto.ts';
import type { Db } from '../storage/database.ts';

// Recovery codes: the way back in when every passkey is lost, without asking an admin.
//
// Each code is 12 characters from Crockford's base32 alphabet (no i, l, o, u: nothing to misread),
// shown as xxxx-xxxx-xxxx: 60 bits from the CSPRNG. Only SHA-256(user id ‖ code) is stored. A slow
// password hash is for low-entropy secrets a person chose; at 60 random bits an offline search of
// a leaked database costs about 2^57 hashes per account for any one of its ten codes, and the user
// id in the hash stops one search from covering every account at once. Online guessing is bounded
// by the rate limits in recovery-limits.ts. Each code works once: the UPDATE … WHERE used_at IS NULL
// that spends it succeeds for exactly one of two concurrent uses.

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const CODE_LENGTH = 12;

/** A fresh code, e.g. `7k3m-q9xd-2hfp`. 256 is a multiple of 32, so `byte & 31` has no bias. */
export function newRecoveryCode(): string {
  const chars = [...randomBytes(CODE_LENGTH)].map((byte) => ALPHABET[byte & 31]).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

/** What a person typed, in canonical form: case, spaces and dashes ignored; O→0, I/L→1. Null if it cannot be a code. */
export function normaliseRecoveryCode(input: string): string | null {
  const text = input.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
  if (text.length !== CODE_LENGTH) return null;
  for (const ch of text) if (!ALPHABET.includes(ch)) return null;
  return text;
}

const hashOf = (userId: string, canonical: string) => sha256Base64url(`latchkey-recovery:${userId}:${canonical}`);

export interface RecoveryCodeStatus {
  unused: number;
  total: number;
  /** When the current set was made, or null when the user has none. */
  createdAt: number | null;
}

export function createRecoveryCodes(db: Db, clock: Clock) {
  return {
    /** Makes a new set and forgets the old one (used or not), in one transaction. Returns the codes to show once. */
    async generate(userId: string): Promise<string[]> {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      const now = clock.nowMs();
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
        await trx.insertInto('recovery_codes')
          .values(codes.map((code) => ({ code_hash: hashOf(userId, normaliseRecoveryCode(code)!), user_id: userId, created_at: now, used_at: null })))
          .execute();
      });
      return codes;
    },

    async status(userId: string): Promise<RecoveryCodeStatus> {
      const rows = await db.selectFrom('recovery_codes').select(['created_at', 'used_at']).where('user_id', '=', userId).execute();
      return {
        unused: rows.filter((row) => row.used_at === null).length,
        total: rows.length,
        createdAt: rows.length ? Math.max(...rows.map((row) => Number(row.created_at))) : null,
      };
    },

    /**
     * Spends one code of the user; returns how many remain, or null when the code is wrong or used.
     * The same work (one hash, one indexed UPDATE) happens whatever the input, so the caller can pass
     * a placeholder user id for an unknown account and answer in the same time.
     */
    async redeem(userId: string, code: string): Promise<{ remaining: number } | null> {
      const canonical = normaliseRecoveryCode(code) ?? '';
      const spent = await db.updateTable('recovery_codes').set({ used_at: clock.nowMs() })
        .where('code_hash', '=', hashOf(userId, canonical)).where('user_id', '=', userId).where('used_at', 'is', null)
        .returning(['code_hash']).executeTakeFirst();
      if (!spent) return null;
      return { remaining: (await this.status(userId)).unused };
    },

    /** Whether every one of `codes` is an unused code of the user (the download of a freshly made set). */
    async areUnusedCodesOf(userId: string, codes: readonly string[]): Promise<boolean> {
      const hashes = codes.map((code) => normaliseRecoveryCode(code)).map((canonical) => (canonical ? hashOf(userId, canonical) : null));
      if (hashes.length === 0 || hashes.includes(null)) return false;
      const rows = await db.selectFrom('recovery_codes').select('code_hash').where('user_id', '=', userId)
        .where('used_at', 'is', null).where('code_hash', 'in', hashes as string[]).execute();
      return rows.length === new Set(hashes).size;
    },
  };
}

export type RecoveryCodes = ReturnType<typeof createRecoveryCodes>;
