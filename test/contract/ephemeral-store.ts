// One set of cases for every EphemeralStore: memory, the database (SQLite and PostgreSQL), Redis.
// A backend passes when it behaves like the others; the cases do not know which one they drive.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EphemeralStore } from '../../src/storage/ephemeral-store.ts';

export interface EphemeralStoreSubject {
  store: EphemeralStore;
  /** Lets `seconds` pass for the store: moves a test clock, or waits for real (Redis keeps its own time). */
  elapse(seconds: number): Promise<void>;
  close(): Promise<void>;
}

export function ephemeralStoreContract(name: string, make: () => Promise<EphemeralStoreSubject>) {
  describe(`ephemeral store: ${name}`, () => {
    let subject: EphemeralStoreSubject;
    let store: EphemeralStore;
    let counter = 0;
    const key = (label: string) => `${label}-${++counter}`;
    before(async () => {
      subject = await make();
      store = subject.store;
    });
    after(() => subject.close());

    it('take() returns a value once, then nothing', async () => {
      const k = key('challenge');
      await store.put(k, 'value-1', 60);
      assert.equal(await store.take(k), 'value-1');
      assert.equal(await store.take(k), null);
      assert.equal(await store.get(k), null);
    });

    it('get() reads a value without consuming it', async () => {
      const k = key('csrf');
      await store.put(k, 'value-2', 60);
      assert.equal(await store.get(k), 'value-2');
      assert.equal(await store.get(k), 'value-2');
    });

    it('answers null for a key it never stored', async () => {
      assert.equal(await store.get(key('missing')), null);
      assert.equal(await store.take(key('missing')), null);
    });

    it('forgets a value after its time to live', async () => {
      const short = key('short');
      const long = key('long');
      await store.put(short, 'gone soon', 1);
      await store.put(long, 'still here', 60);
      await subject.elapse(1.2);
      assert.equal(await store.get(short), null);
      assert.equal(await store.take(short), null);
      assert.equal(await store.get(long), 'still here');
    });

    it('replaces a value and its time to live on a second put', async () => {
      const k = key('replaced');
      await store.put(k, 'first', 1);
      await store.put(k, 'second', 60);
      await subject.elapse(1.2);
      assert.equal(await store.get(k), 'second');
    });

    it('deletes a value', async () => {
      const k = key('deleted');
      await store.put(k, 'value', 60);
      await store.delete(k);
      assert.equal(await store.get(k), null);
    });

    it('gives a value to exactly one of many concurrent takes', async () => {
      const k = key('raced');
      await store.put(k, 'prize', 60);
      const results = await Promise.all(Array.from({ length: 20 }, () => store.take(k)));
      assert.deepEqual(results.filter((r) => r !== null), ['prize']);
    });

    it('counts increments from one', async () => {
      const k = key('attempts');
      assert.equal(await store.increment(k, 60), 1);
      assert.equal(await store.increment(k, 60), 2);
      assert.equal(await store.increment(k, 60), 3);
    });

    it('counts every one of many concurrent increments', async () => {
      const k = key('burst');
      const counts = await Promise.all(Array.from({ length: 20 }, () => store.increment(k, 60)));
      assert.deepEqual(counts.sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('starts a counter again once the time to live of its first increment has passed', async () => {
      const k = key('window');
      assert.equal(await store.increment(k, 1), 1);
      await subject.elapse(0.6);
      assert.equal(await store.increment(k, 1), 2, 'a later increment does not extend the window');
      await subject.elapse(0.6);
      assert.equal(await store.increment(k, 1), 1);
    });
  });
}
