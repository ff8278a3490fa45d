// What a backup archive says about itself. It travels as manifest.json, the archive's first entry.
import { deriveKey } from '../../core/crypto.ts';
import { AppError } from '../../core/errors.ts';

export const MANIFEST_NAME = 'manifest.json';
export const BACKUP_FORMAT = 'latchkey-backup';
export const BACKUP_FORMAT_VERSION = 1;

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  /** The latchkey version that wrote it. */
  latchkeyVersion: string;
  /** When the snapshot was taken (ISO 8601, UTC). */
  createdAt: string;
  database: {
    kind: 'sqlite' | 'postgres';
    /** The payload's name in the archive: a SQLite file, or pg_dump's plain SQL. */
    file: string;
    bytes: number;
    /** Hex SHA-256 of the payload. */
    sha256: string;
    /** Migrations applied to the snapshot (kysely's table), oldest first. */
    migrations: string[];
    /** The newest time recorded in the snapshot's data, or null for an empty database. */
    lastWriteAt: string | null;
  };
  /**
   * Which ENCRYPTION_KEY the signing keys inside are sealed with: a fingerprint derived with
   * SHA-256 (never the key, and not usable to derive it).
   */
  encryptionKeyFingerprint: string;
}

/** "sha256:" and 32 hex digits of SHA-256 over a purpose label and the key. */
export const encryptionKeyFingerprint = (key: Buffer): string =>
  `sha256:${deriveKey(key, 'encryption-key-fingerprint').toString('hex').slice(0, 32)}`;

const invalid = (why: string) => new AppError('backup_invalid', 400, `This is not a usable latchkey backup: ${why}.`);

const isIsoTime = (value: unknown): value is string => typeof value === 'string' && !Number.isNaN(Date.parse(value));

/** Checks the manifest's shape; a backup from a newer format is refused rather than guessed at. */
export function parseManifest(text: string): BackupManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('its manifest is not JSON');
  }
  const m = value as Partial<BackupManifest> | null;
  if (!m || m.format !== BACKUP_FORMAT) throw invalid('its manifest does not name the latchkey backup format');
  if (m.formatVersion !== BACKUP_FORMAT_VERSION)
    throw invalid(`it uses backup format ${String(m.formatVersion)}, and this latchkey reads format ${BACKUP_FORMAT_VERSION}; use the latchkey version that made it (${String(m.latchkeyVersion)}) or newer`);
  const d = m.database;
  if (!isIsoTime(m.createdAt)) throw invalid('its manifest has no creation time');
  if (!d || (d.kind !== 'sqlite' && d.kind !== 'postgres')) throw invalid('its manifest names no database kind');
  if (typeof d.file !== 'string' || !/^[\w.-]+$/.test(d.file)) throw invalid('its manifest names no payload file');
  if (typeof d.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(d.sha256)) throw invalid('its manifest has no payload checksum');
  if (!Number.isSafeInteger(d.bytes)) throw invalid('its manifest has no payload size');
  if (!Array.isArray(d.migrations) || !d.migrations.every((name) => typeof name === 'string')) throw invalid('its manifest lists no migrations');
  if (d.lastWriteAt !== null && !isIsoTime(d.lastWriteAt)) throw invalid('its manifest has a bad last-write time');
  if (typeof m.encryptionKeyFingerprint !== 'string' || !m.encryptionKeyFingerprint.startsWith('sha256:'))
    throw invalid('its manifest has no encryption key fingerprint');
  return m as BackupManifest;
}
