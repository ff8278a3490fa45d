import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { createFileCache } from '../../src/edge/file-cache.ts';
import type { FileCacheOptions } from '../../src/edge/file-cache.ts';

describe('createFileCache', () => {
  let root: string;
  before(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'latchkey-file-cache-')));
    for (const name of ['a', 'b', 'c']) writeFileSync(join(root, `${name}.txt`), name.repeat(100));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const make = (overrides: Partial<FileCacheOptions> = {}) => createFileCache({
    rootRealPath: root, maxBodyBytes: 1024, clock: manualClock(), revalidateAfterMs: 1000,
    maxEntries: 100, maxTotalBodyBytes: 1 << 20, protectionOf: () => null, ...overrides,
  });

  it('shares one look-up between concurrent requests for the same path', () => {
    const cache = make();
    assert.equal(cache.load('/a.txt'), cache.load('/a.txt'));
  });

  it('returns a loaded look-up from peek until it is a second old', async () => {
    const clock = manualClock();
    const cache = make({ clock });
    await cache.load('/a.txt');
    clock.advanceMs(999);
    assert.equal(cache.peek('/a.txt')?.kind, 'file');
    clock.advanceMs(1);
    assert.equal(cache.peek('/a.txt'), undefined);
  });

  it('keeps an unchanged file\'s body when it is looked up again', async () => {
    const cache = make();
    const first = await cache.load('/a.txt');
    const second = await cache.load('/a.txt');
    assert.ok(first.kind === 'file' && second.kind === 'file');
    assert.equal(second.identity.body, first.identity.body);
  });

  it('drops the oldest entries beyond the entry limit', async () => {
    const cache = make({ maxEntries: 2 });
    for (const name of ['/a.txt', '/b.txt', '/c.txt']) await cache.load(name);
    assert.equal(cache.size, 2);
    assert.equal(cache.peek('/a.txt'), undefined);
    assert.equal(cache.peek('/c.txt')?.kind, 'file');
  });

  it('drops the oldest bodies beyond the byte budget', async () => {
    const cache = make({ maxTotalBodyBytes: 250 });
    for (const name of ['/a.txt', '/b.txt', '/c.txt']) await cache.load(name);
    assert.equal(cache.size, 2);
    assert.equal(cache.peek('/a.txt'), undefined);
  });

  it('streams rather than holds a file above the size limit', async () => {
    const lookup = await make({ maxBodyBytes: 50 }).load('/a.txt');
    assert.ok(lookup.kind === 'file');
    assert.equal(lookup.identity.body, null);
    assert.equal(lookup.identity.sizeBytes, 100);
  });

  it('remembers a missing path too, so a flood of 404s does not reach the disk each time', async () => {
    const cache = make();
    await cache.load('/nope.txt');
    assert.equal(cache.peek('/nope.txt')?.kind, 'missing');
  });
});
