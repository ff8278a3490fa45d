// The deployment steps in README.md and docs/ that create latchkey's secret files, run as written
// (with /etc/latchkey moved into a temporary folder) under the usual umask 022: the key and the
// secrets must come out readable by their owner alone, as the systemd units' comments and
// docs/reverse-proxies.md say (root-owned, mode 600). `openssl rand … > FILE` alone makes 0644.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'latchkey-doc-secrets-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Every shell line of a ```sh (or unlabelled) block that makes /etc/latchkey or writes a file in it. */
function secretFileSteps(file: string): string[] {
  const lines: string[] = [];
  let fence: string | null = null; // the language of the block we are in, '' for none
  for (const line of readFileSync(join(root, file), 'utf8').split('\n')) {
    // blocks inside list items are indented
    const marker = /^ *```(\w*)\s*$/.exec(line);
    if (marker) fence = fence === null ? marker[1] : null;
    else if (fence !== null && ['', 'sh', 'bash', 'shell'].includes(fence)) lines.push(line);
  }
  return lines
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line && !line.startsWith('#') && /\/etc\/latchkey/.test(line) && /(^|[\s;(])(install|mkdir|openssl|tee|cat|printf|echo)\b|>/.test(line));
}

const documents = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md') && name !== 'benchmarks.md').map((name) => `docs/${name}`)];

describe('the documented steps that create secret files', () => {
  it('make /etc/latchkey and every secret in it readable by their owner alone, whatever the umask', () => {
    const steps = documents.flatMap((file) => secretFileSteps(file).map((line) => ({ file, line })));
    for (const file of ['README.md', 'docs/reverse-proxies.md'])
      assert.ok(steps.some((s) => s.file === file && /encryption_key/.test(s.line)), `${file} makes the encryption key`);
    // as an admin who made the folder by hand would have it: mkdir under umask 022, mode 755
    const etc = join(work, 'etc', 'latchkey');
    mkdirSync(etc, { recursive: true, mode: 0o755 });
    chmodSync(etc, 0o755);
    for (const { file, line } of steps) {
      const run = spawnSync('bash', ['-euo', 'pipefail', '-c', `umask 022; ${line.replaceAll('/etc/latchkey', etc)}`], { encoding: 'utf8' });
      assert.equal(run.status, 0, `${file}: ${line}\n${run.stderr}`);
    }
    assert.equal(statSync(etc).mode & 0o777, 0o700, '/etc/latchkey');
    const made = readdirSync(etc);
    assert.ok(made.includes('encryption_key') && made.includes('cookie_secret'), made.join(', '));
    for (const name of made) assert.equal(statSync(join(etc, name)).mode & 0o777, 0o600, name);
  });
});
