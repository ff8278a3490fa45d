// `npm test`: makes sure the real peers the tests drive are installed (installing them through
// scripts/system-deps.sh when we are root), then runs every test file with node's test runner.
// A missing tool fails the run loudly; no test silently skips.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const deps = spawnSync('bash', [join(root, 'scripts/system-deps.sh')], { stdio: 'inherit' });
if (deps.status !== 0) {
  console.error('test tools are missing; see the message above');
  process.exit(1);
}
// PostgreSQL and Redis (scale-out tests): start them when installed but stopped.
spawnSync('bash', [join(root, 'scripts/services.sh')], { stdio: 'inherit' });

function findTests(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length ? only : findTests(join(root, 'test')).sort();
execFileSync('git', ['--version'], { stdio: 'ignore' });
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, LATCHKEY_TEST: '1' },
});
process.exit(run.status ?? 1);
