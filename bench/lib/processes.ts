import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';

export const repoRoot = new URL('../../', import.meta.url).pathname;

export { freePort } from '../../test/helpers/free-port.ts';

/** `GET path` over a unix socket; resolves with the status (the bench's readiness probe for socket listeners). */
export function getOverSocket(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path, timeout: 500 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject).on('timeout', function (this: ReturnType<typeof request>) { this.destroy(new Error('timeout')); }).end();
  });
}

/**
 * Starts a process and resolves once `url` answers (any status), or rejects after `timeoutMs`.
 * `url` may be `unix:/path.sock:/request-path` for a process listening on a unix socket.
 */
export async function startAndWait(command: string, args: string[], url: string, options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ child: ChildProcess; readyMs: number }> {
  const socket = /^unix:(\/[^:]+):(\/.*)$/.exec(url);
  const probe = socket ? () => getOverSocket(socket[1], socket[2]) : () => fetch(url, { signal: AbortSignal.timeout(500) });
  const started = performance.now();
  const child = spawn(command, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => { stderr += chunk; });
  const deadline = started + (options.timeoutMs ?? 10_000);
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${command} exited early (${child.exitCode}): ${stderr.slice(-2000)}`);
    try {
      await probe();
      return { child, readyMs: performance.now() - started };
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`${command} did not answer ${url} in time: ${stderr.slice(-2000)}`);
}

export function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

/** Resident memory of a process in MB, from /proc (what `ps` and /usr/bin/time report as RSS). */
export function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return line ? Number(line.replace(/\D+/g, '')) / 1024 : NaN;
}

/** Removes a temporary folder when this process exits (a benchmark or test that stops early included); returns it. */
export function removeAtExit(dir: string): string {
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
