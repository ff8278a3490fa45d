// A backup archive is a gzipped tar (inspect it with `tar -tzvf`): manifest.json, then the
// database payload. Written to a temporary name and renamed, so a reader never sees half a backup.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { AppError } from '../../core/errors.ts';
import { MANIFEST_NAME, parseManifest, type BackupManifest } from './manifest.ts';
import { readTar, tarEnd, tarHeader, tarPadding } from './tar.ts';

export async function sha256OfFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Flushes a file or folder to disk, so a rename that follows survives a power cut. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeArchive(path: string, manifest: BackupManifest, payloadPath: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
  const mtimeMs = Date.parse(manifest.createdAt);
  const { size } = await stat(payloadPath);
  if (size !== manifest.database.bytes) throw new AppError('backup_failed', 500, 'The database snapshot changed while it was archived.');
  async function* entries() {
    yield tarHeader(MANIFEST_NAME, manifestBytes.length, mtimeMs);
    yield manifestBytes;
    yield tarPadding(manifestBytes.length);
    yield tarHeader(manifest.database.file, size, mtimeMs);
    yield* createReadStream(payloadPath) as AsyncIterable<Buffer>;
    yield tarPadding(size);
    yield tarEnd();
  }
  try {
    await pipeline(entries, createGzip(), createWriteStream(temporary, { mode: 0o600 }));
    await fsyncPath(temporary);
    await rename(temporary, path);
    await fsyncPath(dirname(path));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export interface ExtractedArchive {
  manifest: BackupManifest;
  /** Where the payload was written; its checksum matched the manifest's. */
  payloadPath: string;
}

const corrupted = (why: string, cause?: unknown) =>
  new AppError('backup_corrupted', 400, `The backup is damaged (${why}); nothing was changed. Use another backup.`, { cause });

/**
 * Reads an archive, writing the payload to `payloadPath` and checking it against the manifest's
 * SHA-256 and size. Throws (and removes the payload) when anything does not match.
 */
export async function extractArchive(archivePath: string, payloadPath: string): Promise<ExtractedArchive> {
  let manifestText: string | null = null;
  let manifest: BackupManifest | null = null;
  let payload: { sha256: string; bytes: number } | null = null;
  const manifestChunks: Buffer[] = [];
  try {
    const gunzip = createGunzip();
    createReadStream(archivePath).on('error', (error) => gunzip.destroy(error)).pipe(gunzip);
    await readTar(gunzip as AsyncIterable<Buffer>, (entry) => {
      if (entry.name === MANIFEST_NAME && manifestText === null) {
        return { write: (chunk) => void manifestChunks.push(chunk), end: () => { manifestText = Buffer.concat(manifestChunks).toString('utf8'); } };
      }
      if (manifestText === null) throw corrupted('the manifest is not the first entry');
      manifest ??= parseManifest(manifestText);
      if (entry.name !== manifest.database.file || payload) return null;
      const hash = createHash('sha256');
      let bytes = 0;
      const out = createWriteStream(payloadPath, { mode: 0o600 });
      let failed: Error | null = null;
      out.on('error', (error) => { failed = error; });
      return {
        write: (chunk) => {
          if (failed) throw failed;
          hash.update(chunk);
          bytes += chunk.length;
          // once() rejects on 'error': a full disk never drains, and waiting for it hung the restore
          if (!out.write(chunk)) return once(out, 'drain').then(() => undefined);
        },
        end: () => new Promise<void>((resolve, reject) => {
          if (failed) return reject(failed);
          out.once('error', reject);
          out.end(() => resolve());
          payload = { sha256: hash.digest('hex'), bytes };
        }),
      };
    });
  } catch (error) {
    await rm(payloadPath, { force: true });
    if (error instanceof AppError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('backup_not_found', 400, `No backup at ${archivePath}.`);
    // the backup may be fine: say what happened instead of calling it damaged
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new AppError('disk_full', 507, `The disk is full where ${payloadPath} was being written; nothing was changed. Free some space and try again.`, { cause: error });
    throw corrupted(code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' ? 'its compressed data does not check out' : (error as Error).message, error);
  }
  const m = manifest as BackupManifest | null;
  const p = payload as { sha256: string; bytes: number } | null;
  try {
    if (!m) throw corrupted('it has no manifest or no database');
    if (!p) throw corrupted(`it has no ${m.database.file}`);
    if (p.bytes !== m.database.bytes || p.sha256 !== m.database.sha256) throw corrupted(`the SHA-256 of ${m.database.file} does not match the manifest`);
  } catch (error) {
    await rm(payloadPath, { force: true });
    throw error;
  }
  return { manifest: m, payloadPath };
}
