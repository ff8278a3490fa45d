// A secret shown once (src/web/reveal.ts) is bound to the admin who made it. Someone else opening
// its `?reveal=` URL (another admin given the address, a shared browser history) sees nothing, and
// must not use up the one showing its owner has not had yet.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { createMemoryStore } from '../../src/storage/ephemeral-store.ts';
import { createReveal } from '../../src/web/reveal.ts';

describe('a parked secret', () => {
  const reveal = () => createReveal({ store: createMemoryStore(manualClock()), encryptionKey: 'reveal-test-key-0123456789', purpose: 'admin-reveal' });

  it('is shown to its owner once, and not to another admin who opens its URL first', async () => {
    const parked = reveal();
    const token = await parked.park('admin-a', { key: 'lk_secret' });
    assert.equal(await parked.take('admin-b', token), null, 'not shown to another admin');
    assert.deepEqual(await parked.take('admin-a', token), { key: 'lk_secret' }, 'still there for its owner');
    assert.equal(await parked.take('admin-a', token), null, 'and only once');
  });

  it('is shown once even when its owner opens it twice at the same moment', async () => {
    const parked = reveal();
    const token = await parked.park('admin-a', { key: 'lk_secret' });
    const shown = await Promise.all([parked.take('admin-a', token), parked.take('admin-a', token)]);
    assert.equal(shown.filter(Boolean).length, 1);
  });
});
