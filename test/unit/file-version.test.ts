// watchFiles with untilSettled (core/file-version.ts): a file saved in place (truncated, then
// written) is read only once two looks in a row find the same version, never in between.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { watchFiles } from '../../src/core/file-version.ts';

describe('watchFiles until the file settles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-file-version-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('never reads the empty moment of a file saved in place, and reads what it settles on', () => {
    const file = join(dir, 'emails.csv');
    writeFileSync(file, 'ann@example.com\n');
    const read: string[] = [];
    const watch = watchFiles([file], 60_000, () => (read.push(readFileSync(file, 'utf8')), 'reloaded'), (error) => assert.fail(String(error)), { untilSettled: true });
    try {
      truncateSync(file); // an editor saving in place: first empty …
      assert.equal(watch.check(), 'unchanged', 'the empty file is seen once, not read');
      writeFileSync(file, 'ann@example.com\nbob@example.org\n'); // … then written
      assert.equal(watch.check(), 'unchanged', 'another version again: not read yet');
      assert.equal(watch.check(), 'reloaded');
      assert.deepEqual(read, ['ann@example.com\nbob@example.org\n']);
      assert.equal(watch.check(), 'unchanged');

      truncateSync(file); // really emptied: read once it stays so
      assert.equal(watch.check(), 'unchanged');
      assert.equal(watch.check(), 'reloaded');
      assert.deepEqual(read.at(-1), '');
    } finally {
      watch.stop();
    }
  });

  it('reads a change at the first look without untilSettled, as the TLS files are read', () => {
    const file = join(dir, 'cert.pem');
    writeFileSync(file, 'one');
    const watch = watchFiles([file], 60_000, () => 'reloaded', (error) => assert.fail(String(error)));
    try {
      writeFileSync(file, 'two!');
      assert.equal(watch.check(), 'reloaded');
    } finally {
      watch.stop();
    }
  });
});
