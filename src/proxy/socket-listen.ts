// Listening on a unix socket (--http-address=unix:///path.sock) or an inherited one (fd:N).
//
// The socket path is claimed carefully: a live socket is never taken over (two proxies answering
// in turn would be a puzzle to debug), a stale one (left by a proxy that was killed) is replaced,
// and a path that is not a socket at all is never deleted. When the server closes, libuv removes
// the socket file it created; an inherited socket belongs to whoever passed it (systemd) and stays.
import { chmod as chmodCallback, fstatSync, lstat as lstatCallback, stat as statCallback, unlink as unlinkCallback } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { AppError } from '../core/errors.ts';

// node:fs's callbacks, not node:fs/promises: that module loads readline and the REPL's history
// with it, which the proxy otherwise does without (docs/benchmarks.md, lever 34).
const [chmod, lstat, stat, unlink] = [promisify(chmodCallback), promisify(lstatCallback), promisify(statCallback), promisify(unlinkCallback)];

const OPTION = '--http-address / OAUTH2_PROXY_HTTP_ADDRESS';

const startError = (message: string, cause?: unknown) =>
  new AppError('listen_failed', 400, `${OPTION}: ${message}`, cause === undefined ? undefined : { cause });

const codeOf = (error: unknown): string => (error as NodeJS.ErrnoException)?.code ?? 'error';

/** Whether something accepts connections on the socket at `path` (refused = a stale file). */
function answersOn(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error) => {
      const code = codeOf(error);
      if (code === 'ECONNREFUSED' || code === 'ENOENT') resolve(false);
      // EACCES and the like: whether it is in use cannot be known, so it is not touched
      else reject(startError(`cannot tell whether ${path} is in use (connecting to it failed: ${code}); remove it yourself if it is stale`, error));
    });
  });
}

/** Makes `path` free for a new socket, or explains why it is not. */
export async function claimSocketPath(path: string): Promise<void> {
  // Node reports a missing folder as EACCES when binding, so it is looked at first
  const folder = dirname(path);
  const folderStats = await stat(folder).catch((error: unknown) => {
    if (codeOf(error) === 'ENOENT') throw startError(`the folder of ${path} does not exist; create it (systemd: RuntimeDirectory=, or a .socket unit)`, error);
    throw startError(`cannot look at ${folder} (${codeOf(error)})`, error);
  });
  if (!folderStats.isDirectory()) throw startError(`${folder} is not a folder, so ${path} cannot be created`);
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw startError(`cannot look at ${path} (${codeOf(error)})`, error);
  }
  if (!isSocket) throw startError(`${path} exists and is not a socket; latchkey never deletes such a file: choose another path, or remove it yourself`);
  if (await answersOn(path)) throw startError(`another process is listening on ${path} (a second latchkey proxy?); stop it, or choose another path`);
  // Nothing answers: the socket of a proxy that ended without removing it (killed, crashed).
  try {
    await unlink(path);
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw startError(`cannot remove the stale socket ${path} (${codeOf(error)})`, error);
  }
}

/** Listens on a fresh unix socket at `path` with exactly `mode` (whatever the umask). */
export async function listenOnSocketPath(server: Server, listen: () => Promise<unknown>, path: string, mode: number): Promise<void> {
  await claimSocketPath(path);
  try {
    await listen();
  } catch (error) {
    const code = codeOf(error);
    if (code === 'EACCES') throw startError(`cannot create ${path}: no permission to create files in ${dirname(path)}`, error);
    if (code === 'EADDRINUSE') throw startError(`${path} was taken by another process while latchkey started`, error);
    throw error;
  }
  try {
    await chmod(path, mode);
  } catch (error) {
    server.close();
    throw startError(`cannot set mode ${mode.toString(8).padStart(4, '0')} on ${path} (${codeOf(error)})`, error);
  }
}

/** Listens on a socket this process inherited as file descriptor `fd` (systemd socket activation). */
export function listenOnInheritedSocket(server: Server, fd: number): Promise<void> {
  const needed = `fd:${fd} needs a listening socket passed by systemd (a .socket unit, ListenStream=) or another supervisor`;
  // Node reports a closed descriptor and a file alike (EINVAL); fstat tells them apart
  try {
    if (!fstatSync(fd).isSocket()) return Promise.reject(startError(`file descriptor ${fd} is not a socket; ${needed}`));
  } catch (error) {
    return Promise.reject(startError(`file descriptor ${fd} is not open (${codeOf(error)}); ${needed}`, error));
  }
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      const why = codeOf(error) === 'EINVAL' ? 'is not a stream socket that can listen' : `cannot be listened on (${codeOf(error)})`;
      reject(startError(`file descriptor ${fd} ${why}; ${needed}`, error));
    };
    server.once('error', fail);
    server.listen({ fd }, () => {
      server.off('error', fail);
      resolve();
    });
  });
}
