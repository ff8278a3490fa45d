// The private folders backup and restore work in, and the ones a killed run leaves behind. Each run
// copies the whole database into a folder of its own (mkdtemp: 0700, a name nobody can guess) and
// removes it when done; killed (kill -9, the OOM killer, a power cut), it cannot, and a copy of
// every account and sealed key stays there. The next run in the same place removes such folders,
// but never one that another run is still using:
// - a run holds a lock on a file in its folder for as long as it uses it, and a folder is removed
//   only when that lock can be taken. The lock is SQLite's (a POSIX fcntl lock; node has no flock):
//   the kernel drops it when its process ends, however it ends, and it is seen by processes in
//   other containers that share the folder, where a pid would mean nothing (another pid namespace,
//   or a pid reused since);
// - a folder changed in the last STALE_AFTER_MS is left alone whatever its lock says: that covers
//   the moment between mkdtemp and taking the lock (and the first minutes of a run of an older
//   latchkey, which takes no lock);
// - only folders named as mkdtemp names them (the prefix and six letters or digits), only this
//   user's own, never a link: in a shared /tmp another user's are not ours to judge.
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileErrorReason, type FileError } from '../../core/file-error-reason.ts';

const STALE_AFTER_MS = 10 * 60_000;
const LOCK_FILE = '.in-use';
const SQLITE_BUSY = 5;

export interface ScratchFolder {
  path: string;
  /** Drops the lock and removes the folder with everything in it. */
  remove(): Promise<void>;
}

/**
 * Takes the lock on `path` without waiting: the open connection while it is held, null when another
 * connection (of any process) holds it. Throws when the file system cannot lock at all.
 */
function takeLock(path: string): DatabaseSync | null {
  const lock = new DatabaseSync(path, { timeout: 0 });
  try {
    lock.exec('BEGIN EXCLUSIVE');
    return lock;
  } catch (error) {
    lock.close();
    if ((error as { errcode?: number }).errcode === SQLITE_BUSY) return null;
    throw error;
  }
}

/** A new private folder in `parent`, named `prefix` and six random characters, locked while in use. */
export async function makeScratchFolder(parent: string, prefix: string): Promise<ScratchFolder> {
  const path = await mkdtemp(join(parent, prefix));
  let lock: DatabaseSync | null = null;
  try {
    lock = takeLock(join(path, LOCK_FILE));
  } catch {
    // a file system without locks (some network mounts): the run goes ahead, and a later run cannot
    // take this folder's lock either, so it is named, never removed
  }
  return {
    path,
    async remove() {
      lock?.close();
      await rm(path, { recursive: true, force: true });
    },
  };
}

export interface Leftovers {
  /** Folders that a killed run left, now removed. */
  removed: string[];
  /** Sentences about leftovers that could not be removed, or whose use cannot be told. */
  kept: string[];
}

/** Removes the folders named `prefix`… in `parent` that a killed run left (see above). */
export async function removeLeftoverFolders(parent: string, prefix: string): Promise<Leftovers> {
  const leftovers: Leftovers = { removed: [], kept: [] };
  // a folder that cannot be listed holds nothing this run could remove; the run says why if it matters
  const names = await readdir(parent).catch(() => [] as string[]);
  const madeByMkdtemp = (name: string) => name.startsWith(prefix) && /^[A-Za-z0-9]{6}$/.test(name.slice(prefix.length));
  for (const name of names.filter(madeByMkdtemp)) {
    const path = join(parent, name);
    const found = await lstat(path).catch(() => null);
    if (!found?.isDirectory() || found.uid !== (process.getuid?.() ?? found.uid) || Date.now() - found.mtimeMs < STALE_AFTER_MS) continue;
    let lock: DatabaseSync | null;
    try {
      lock = takeLock(join(path, LOCK_FILE));
    } catch (error) {
      leftovers.kept.push(`${path} may be left by a run that was stopped, but whether it is in use cannot be told (${(error as Error).message}); remove it once no backup or restore runs`);
      continue;
    }
    if (!lock) continue; // in use: a live run holds it
    // Released before the removal: runs only ever work in a folder mkdtemp has just made, so no run can start using this one.
    lock.close();
    try {
      await rm(path, { recursive: true, force: true });
      leftovers.removed.push(path);
    } catch (error) {
      leftovers.kept.push(`${path} was left by a run that was stopped and cannot be removed (${fileErrorReason(error as FileError)}); remove it by hand`);
    }
  }
  return leftovers;
}
