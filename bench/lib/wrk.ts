import { execFileSync } from 'node:child_process';

export interface WrkResult {
  requestsPerSecond: number;
  /** Requests completed in the run. */
  requests: number;
  non2xx: number;
  errors: number;
}

/**
 * One wrk run: one thread, 50 connections, on loopback — the setup the targets were set with.
 * Any non-2xx/3xx answer or socket error makes the figure meaningless, so they are counted.
 */
export function wrk(url: string, options: { seconds: number; connections?: number; headers?: Record<string, string> }): WrkResult {
  const args = ['-t1', `-c${options.connections ?? 50}`, `-d${options.seconds}s`];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  const output = execFileSync('wrk', [...args, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const errors = (/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output)?.slice(1) ?? []).reduce((sum, n) => sum + Number(n), 0);
  if (!Number.isFinite(rps)) throw new Error(`could not read wrk's output:\n${output}`);
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? 0);
  return { requestsPerSecond: rps, requests, non2xx, errors };
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
