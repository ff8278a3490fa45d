// The benchmarks measure what production runs: the esbuild bundle (scripts/build.ts) with the
// Node flags bin/latchkey passes. The bundle is built into a temporary folder, so a benchmark
// never depends on (or replaces) a dist/ that may be older than the sources.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './processes.ts';

/** Keep in step with bin/latchkey. */
export const PRODUCTION_NODE_ARGS = ['--max-semi-space-size=1', '--optimize-for-size'];

let built: string | undefined;
export function bundleEntry(): string {
  if (!built) {
    const outdir = mkdtempSync(join(tmpdir(), 'latchkey-bench-dist-'));
    execFileSync(join(repoRoot, 'node_modules/.bin/node'), [join(repoRoot, 'scripts/build.ts'), '--outdir', outdir], { stdio: 'ignore' });
    built = join(outdir, 'main.js');
  }
  return built;
}
