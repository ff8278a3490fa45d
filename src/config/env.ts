import { readFileSync } from 'node:fs';
import { parseGoDurationMs } from '../core/duration.ts';
import type { Env } from './problems.ts';

/**
 * Reads NAME, or the contents of the file named by NAME_FILE (Docker/Kubernetes secrets).
 * Setting both is a mistake worth reporting: the user cannot tell which one wins.
 */
export function readEnv(env: Env, name: string, problems: string[]): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && file) {
    problems.push(`${name} and ${name}_FILE are both set; keep one`);
    return undefined;
  }
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      problems.push(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }
  return direct === '' ? undefined : direct;
}

/** Go's strconv.ParseBool spelling, which Pocket ID's boolean variables use. */
export function parseBool(text: string): boolean | null {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  return null;
}

export function readBool(env: Env, name: string, fallback: boolean, problems: string[]): boolean {
  const text = readEnv(env, name, problems);
  if (text === undefined) return fallback;
  const value = parseBool(text);
  if (value === null) problems.push(`${name}: expected true or false, got "${text}"`);
  return value ?? fallback;
}

export function readDurationSeconds(env: Env, name: string, fallbackSeconds: number, problems: string[]): number {
  const text = readEnv(env, name, problems);
  if (text === undefined) return fallbackSeconds;
  const ms = parseGoDurationMs(text);
  if (ms === null || ms <= 0) {
    problems.push(`${name}: expected a duration such as 720h or 15m, got "${text}"`);
    return fallbackSeconds;
  }
  return Math.round(ms / 1000);
}

export function readPort(env: Env, name: string, fallback: number, problems: string[]): number {
  const text = readEnv(env, name, problems);
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    problems.push(`${name}: expected a port number from 0 to 65535, got "${text}"`);
    return fallback;
  }
  return port;
}
