// The benchmarks measure what production runs: the esbuild bundle (scripts/build.ts) with the
// Node flags bin/latchkey passes. The bundle is built into a temporary folder, so a benchmark
// never depends on (or replaces) a dist/ that may be older than the sources.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeAtExit, repoRoot } from './processes.ts';

/** Keep in step with bin/latchkey (test/integration/bin-latchkey.test.ts checks). */
export const PRODUCTION_NODE_ARGS = ['--max-semi-space-size=1', '--optimize-for-size', '--no-concurrent-recompilation'];
/**
 * What bin/latchkey adds for `latchkey proxy` alone (no TurboFan: docs/benchmarks.md, lever 25),
 * unless LATCHKEY_PROXY_OPTIMIZE=speed, which the benchmarks honour as bin/latchkey does.
 */
export const WITHOUT_TURBOFAN = ['--max-opt=2'];
export const PROXY_ONLY_NODE_ARGS = process.env.LATCHKEY_PROXY_OPTIMIZE === 'speed' ? [] : WITHOUT_TURBOFAN;
/** How the benchmarks' tables name the proxy's extra flags. */
export const PROXY_FLAGS_TEXT = PROXY_ONLY_NODE_ARGS.length ? `the proxy also ${PROXY_ONLY_NODE_ARGS.join(' ')}` : 'the proxy with TurboFan, LATCHKEY_PROXY_OPTIMIZE=speed';
export const PROXY_NODE_ARGS = [...PRODUCTION_NODE_ARGS, ...PROXY_ONLY_NODE_ARGS];
/** The environment bin/latchkey sets (glibc's malloc trim threshold). */
export const PRODUCTION_ENV: Readonly<Record<string, string>> = { MALLOC_TRIM_THRESHOLD_: '131072' };
// Every process a benchmark starts inherits this environment, latchkey's included, so a benchmark
// that imports this file runs latchkey with production's allocator setting (as bin/latchkey does).
for (const [name, value] of Object.entries(PRODUCTION_ENV)) process.env[name] ??= value;

let built: string | undefined;
export function bundleEntry(): string {
  if (!built) {
    const outdir = removeAtExit(mkdtempSync(join(tmpdir(), 'latchkey-bench-dist-')));
    execFileSync(join(repoRoot, 'node_modules/.bin/node'), [join(repoRoot, 'scripts/build.ts'), '--outdir', outdir], { stdio: 'ignore' });
    built = join(outdir, 'main.js');
  }
  return built;
}
