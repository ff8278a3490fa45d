// bin/latchkey is what systemd units (and operators) run: it must pick the bundle only while it
// is newer than every source file, and start Node with the memory flags and allocator setting the
// benchmarks measured (docs/benchmarks.md), which bench/lib/bundle.ts repeats for the benchmarks.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PRODUCTION_ENV, PRODUCTION_NODE_ARGS, WITHOUT_TURBOFAN } from '../../bench/lib/bundle.ts';

// What bin/latchkey runs the proxy with by default (LATCHKEY_PROXY_OPTIMIZE unset or memory).
const PROXY_NODE_ARGS = [...PRODUCTION_NODE_ARGS, ...WITHOUT_TURBOFAN];

const repo = fileURLToPath(new URL('../../', import.meta.url));

interface Started { entry: string; execArgv: string[]; argv: string[]; trim: string | undefined }

describe('bin/latchkey', () => {
  // A copy of the script in a checkout of its own whose entry points report how they were started.
  let root: string;
  const report = "console.log(JSON.stringify({ entry: import.meta.filename, execArgv: process.execArgv, argv: process.argv.slice(2), trim: process.env.MALLOC_TRIM_THRESHOLD_ }));\n";
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'latchkey-bin-'));
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'src'));
    mkdirSync(join(root, 'dist'));
    copyFileSync(join(repo, 'bin/latchkey'), join(root, 'bin/latchkey'));
    symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
    writeFileSync(join(root, 'src/main.ts'), report);
    writeFileSync(join(root, 'dist/main.js'), report);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const run = (env: Record<string, string> = {}, command = 'proxy'): Started => {
    const clean = { ...process.env };
    delete clean.MALLOC_TRIM_THRESHOLD_;
    delete clean.LATCHKEY_PROXY_OPTIMIZE;
    return JSON.parse(execFileSync('sh', [join(root, 'bin/latchkey'), command, '--flag'], { encoding: 'utf8', env: { ...clean, ...env } })) as Started;
  };
  const age = (path: string, secondsAgo: number) => {
    const when = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(join(root, path), when, when);
  };

  it('runs the bundle while it is newer than every source, with the production flags and malloc setting', () => {
    age('src/main.ts', 60);
    age('src', 60);
    age('dist/main.js', 10);
    const started = run();
    assert.equal(started.entry, join(root, 'dist/main.js'));
    assert.deepEqual(started.execArgv, PROXY_NODE_ARGS);
    assert.deepEqual(started.argv, ['proxy', '--flag']);
    assert.equal(started.trim, PRODUCTION_ENV.MALLOC_TRIM_THRESHOLD_);
  });

  it('runs the sources when one of them is newer than the bundle, with the same settings', () => {
    age('dist/main.js', 60);
    age('src/main.ts', 10);
    const started = run();
    assert.equal(started.entry, join(root, 'src/main.ts'));
    assert.deepEqual(started.execArgv, PROXY_NODE_ARGS);
  });

  it('keeps TurboFan for every command but the proxy (docs/benchmarks.md, lever 25)', () => {
    for (const command of ['serve', 'id', 'doctor']) {
      const started = run({}, command);
      assert.deepEqual(started.execArgv, PRODUCTION_NODE_ARGS, command);
      assert.deepEqual(started.argv, [command, '--flag']);
    }
  });

  it('gives the proxy TurboFan back with LATCHKEY_PROXY_OPTIMIZE=speed, and refuses any other value but memory', () => {
    assert.deepEqual(run({ LATCHKEY_PROXY_OPTIMIZE: 'speed' }).execArgv, PRODUCTION_NODE_ARGS);
    assert.deepEqual(run({ LATCHKEY_PROXY_OPTIMIZE: 'memory' }).execArgv, PROXY_NODE_ARGS);
    assert.deepEqual(run({ LATCHKEY_PROXY_OPTIMIZE: 'speed' }, 'serve').execArgv, PRODUCTION_NODE_ARGS);
    const clean = { ...process.env };
    delete clean.LATCHKEY_PROXY_OPTIMIZE;
    const refused = spawnSync('sh', [join(root, 'bin/latchkey'), 'proxy'], { encoding: 'utf8', env: { ...clean, LATCHKEY_PROXY_OPTIMIZE: 'fast' } });
    assert.equal(refused.status, 2);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /LATCHKEY_PROXY_OPTIMIZE is "fast"; use memory \(the default\) or speed/);
  });

  it('runs the Node on PATH where the pinned one is not installed (the container image)', () => {
    const bare = mkdtempSync(join(tmpdir(), 'latchkey-bin-bare-'));
    try {
      mkdirSync(join(bare, 'bin'));
      mkdirSync(join(bare, 'dist'));
      copyFileSync(join(repo, 'bin/latchkey'), join(bare, 'bin/latchkey'));
      mkdirSync(join(bare, 'src'));
      writeFileSync(join(bare, 'dist/main.js'), report);
      const path = `${join(repo, 'node_modules/.bin')}:${process.env.PATH}`;
      const started = JSON.parse(execFileSync('sh', [join(bare, 'bin/latchkey'), 'serve'], { encoding: 'utf8', env: { ...process.env, PATH: path } })) as Started;
      assert.equal(started.entry, join(bare, 'dist/main.js'));
      assert.deepEqual(started.execArgv, PRODUCTION_NODE_ARGS);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('keeps an operator\'s own MALLOC_TRIM_THRESHOLD_', () => {
    assert.equal(run({ MALLOC_TRIM_THRESHOLD_: '1048576' }).trim, '1048576');
  });
});
