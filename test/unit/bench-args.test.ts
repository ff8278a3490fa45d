// The benchmark scripts refuse a flag they do not know, or a count that is not a number, with
// their usage and exit 2, and print the usage for --help (bench/lib/args.ts): a mistyped flag
// used to end in a stack trace, and `--seconds abc` in a run of wrk for NaN seconds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = (script: string, args: string[]) =>
  spawnSync(`${root}node_modules/.bin/node`, [`bench/${script}`, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });

describe('the benchmark scripts\' command lines', () => {
  for (const script of ['run.ts', 'memory.ts', 'sign-in.ts', 'profile-proxy.ts', 'proxy-start.ts', 'data-growth.ts']) {
    it(`${script}: an unknown flag is refused with the usage, exit 2`, () => {
      const result = run(script, ['--bogus']);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`^Unknown option '--bogus'.*\\nusage: node bench/${script.replace('.', '\\.')} \\[`, 's'));
    });
  }

  it('refuses a count that is not a whole number, naming the flag', () => {
    const result = run('run.ts', ['--seconds', 'abc']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^--seconds: expected a whole number of at least 1, got "abc"\nusage: node bench\/run\.ts/);
    assert.equal(run('run.ts', ['--rounds', '0']).status, 2);
  });

  it('prints the usage, continuation lines included, for --help', () => {
    const result = run('data-growth.ts', ['--help']);
    assert.equal(result.status, 0);
    assert.deepEqual(result.stdout.trimEnd().split('\n').map((line) => line.trim().split(' ')[0]), ['usage:', '[--count']);
  });
});
