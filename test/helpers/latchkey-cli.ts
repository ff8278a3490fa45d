// Runs the `latchkey` command line as a user would, from the sources, for the CLI tests.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openMigratedDatabase } from '../../src/storage/database.ts';
import { requireTool } from './deploy-tools.ts';

/** The checkout's root, and the pinned Node that runs it. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const pinnedNode = `${repoRoot}node_modules/.bin/node`;

export interface CliRun { code: number | null; stdout: string; stderr: string }

/**
 * Runs `latchkey <args>` to completion with `env` (of this process's environment only PATH, and
 * LOG_LEVEL=warn unless env sets it), in `cwd` (the repository unless given). With
 * `obeyFileModes`, a run as root drops root's power to pass permission checks (CAP_DAC_OVERRIDE,
 * CAP_DAC_READ_SEARCH, with setpriv), so a file's mode bits stop it as they stop anyone: how the
 * tests of unreadable databases and unwritable folders work as root, without another user who
 * would need to reach the checkout (a fresh clone may sit in a folder only root may enter).
 * A command still running after 20 s (a server that started where none should) is killed, so the
 * test fails instead of hanging.
 */
export async function runLatchkey(args: string[], env: Record<string, string> = {}, cwd = repoRoot, options: { obeyFileModes?: boolean } = {}): Promise<CliRun> {
  const command = [pinnedNode, join(repoRoot, 'src/main.ts'), ...args];
  const asRootObeyingModes = options.obeyFileModes === true && process.getuid?.() === 0;
  const [file, ...rest] = asRootObeyingModes ? [requireTool('setpriv'), '--inh-caps=-all', '--bounding-set=-dac_override,-dac_read_search', ...command] : command;
  const child = spawn(file, rest, { cwd, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env }, timeout: 20_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const [code] = await once(child, 'exit');
  return { code, stdout, stderr };
}

/**
 * For the suite it is called in: a scratch folder, removed afterwards, with a SQLite database
 * migrated before the tests (commands run in parallel cannot all set up one new file), and the
 * environment the admin commands read it with.
 */
export function scratchCommandEnv(prefix: string): { dir: string; env: { APP_URL: string; DB_CONNECTION_STRING: string; ENCRYPTION_KEY: string } } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = { APP_URL: 'http://localhost:1411', DB_CONNECTION_STRING: join(dir, 'latchkey.db'), ENCRYPTION_KEY: 'cli-test-encryption-key-0123456789' };
  before(async () => { await (await openMigratedDatabase(env.DB_CONNECTION_STRING)).close(); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, env };
}
