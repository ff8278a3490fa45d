// A backup archive is a gzipped tar (inspect it with `tar -tzvf`): manifest.json, then the
// database payload. Written to a temporary name and renamed, so a reader never sees half a backup.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { AppError } from '../../core/errors.ts';
import { fileErrorReason, type FileError } from '../../core/file-error-reason.ts';
import { MANIFEST_NAME, parseManifest, type BackupManifest } from './manifest.ts';
import { createPrivateFile } from './snapshot.ts';
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

/**
 * Writes the archive at `temporary`, then renames it to `path`. `temporary` is in a folder only this
 * user may open, on the file system of `path` (create-backup.ts): in a shared folder, another user
 * could replace a file of ours between its writing and its rename, and a forged backup would take
 * the archive's name.
 */
export async function writeArchive(path: string, manifest: BackupManifest, payloadPath: string, temporary: string): Promise<void> {
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
    // made new and private, and written through its descriptor (snapshot.ts)
    const fd = createPrivateFile(temporary);
    await pipeline(entries, createGzip(), createWriteStream(temporary, { fd, flush: true }));
    await rename(temporary, path);
    await fsyncPath(dirname(path));
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {});
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
 * Reads an archive, writing the payload to `payloadPath` (made new and private: snapshot.ts) and
 * checking it against the manifest's SHA-256 and size. Throws (and removes the payload) when
 * anything does not match. An archive that cannot be read, or a payload that cannot be written, is
 * said so: only an archive whose contents do not check out is called damaged.
 */
export async function extractArchive(archivePath: string, payloadPath: string): Promise<ExtractedArchive> {
  let manifestText: string | null = null;
  let manifest: BackupManifest | null = null;
  let payload: { sha256: string; bytes: number } | null = null;
  const manifestChunks: Buffer[] = [];
  let out: WriteStream | null = null;
  let writeFailed: Error | null = null;
  try {
    try {
      out = createWriteStream(payloadPath, { fd: createPrivateFile(payloadPath), flush: true });
    } catch (error) {
      writeFailed = error as Error;
      throw error;
    }
    out.on('error', (error) => { writeFailed = error; });
    const sink = out;
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
      return {
        write: (chunk) => {
          if (writeFailed) throw writeFailed;
          hash.update(chunk);
          bytes += chunk.length;
          // once() rejects on 'error': a full disk never drains, and waiting for it hung the restore
          if (!sink.write(chunk)) return once(sink, 'drain').then(() => undefined);
        },
        end: () => new Promise<void>((resolve, reject) => {
          if (writeFailed) return reject(writeFailed);
          sink.once('error', reject);
          // closed, not only finished: closing a descriptor drops this process's locks on the file,
          // and SQLite opens it next (restore-backup.ts)
          sink.once('close', () => resolve());
          sink.end();
          payload = { sha256: hash.digest('hex'), bytes };
        }),
      };
    });
  } catch (error) {
    out?.destroy();
    await rm(payloadPath, { force: true });
    if (error instanceof AppError) throw error;
    const { code, path } = error as FileError;
    // the backup may be fine: say what happened instead of calling it damaged
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new AppError('disk_full', 507, `The disk is full where ${payloadPath} was being written; nothing was changed. Free some space and try again.`, { cause: error });
    if (error === (writeFailed as Error | null)) throw new AppError('restore_write_failed', 400, `Cannot write ${payloadPath}: ${fileErrorReason(error as FileError)}; nothing was changed.`, { cause: error });
    if (code === 'ENOENT' && path === archivePath) throw new AppError('backup_not_found', 400, `No backup at ${archivePath}.`);
    if (path === archivePath) throw new AppError('backup_unreadable', 400, `Cannot read the backup ${archivePath}: ${fileErrorReason(error as FileError)}; nothing was changed.`, { cause: error });
    throw corrupted(code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' ? 'its compressed data does not check out' : (error as Error).message, error);
  }
  const m = manifest as BackupManifest | null;
  const p = payload as { sha256: string; bytes: number } | null;
  try {
    if (!m) throw corrupted('it has no manifest or no database');
    if (!p) throw corrupted(`it has no ${m.database.file}`);
    if (p.bytes !== m.database.bytes || p.sha256 !== m.database.sha256) throw corrupted(`the SHA-256 of ${m.database.file} does not match the manifest`);
  } catch (error) {
    (out as WriteStream | null)?.destroy();
    await rm(payloadPath, { force: true });
    throw error;
  }
  return { manifest: m, payloadPath };
}

/**
 * Checks an archive whole (its manifest, its payload against the manifest's SHA-256 and size)
 * without keeping the payload, for a caller that only needs the manifest or the verdict: the
 * payload goes into a folder only this user may open (mkdtemp, 0700), never a name another user
 * could guess, and the folder is removed afterwards.
 */
export async function checkArchive(archivePath: string): Promise<ExtractedArchive> {
  const scratch = await mkdtemp(join(tmpdir(), 'latchkey-archive-'));
  try {
    return await extractArchive(archivePath, join(scratch, 'database'));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
