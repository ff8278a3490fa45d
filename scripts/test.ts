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
// nginx and apache2 live in /usr/sbin, which a Debian user's PATH lacks: without it the tests would
// call installed tools missing.
const sbin = ['/usr/local/sbin', '/usr/sbin', '/sbin'].filter((dir) => !(process.env.PATH ?? '').split(':').includes(dir));
// A test file whose failed set-up leaves a server listening never ends, and node's per-test
// timeout cannot see it (seen: deploy-auth-cache.test.ts with nginx missing). The suite takes ~3
// minutes; past RUN_LIMIT_MS it is stopped and fails, instead of holding CI until its own limit.
// (--test-force-exit would end such files, but it also dropped tests that had not started yet.)
const RUN_LIMIT_MS = 30 * 60_000;
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, PATH: [process.env.PATH, ...sbin].filter(Boolean).join(':'), LATCHKEY_TEST: '1' },
  timeout: RUN_LIMIT_MS,
  killSignal: 'SIGKILL',
});
if (run.error) console.error(`npm test: stopped after ${RUN_LIMIT_MS / 60_000} minutes (${run.error.message}); a test file is holding the run: see the last file above without results`);
process.exit(run.status ?? 1);
