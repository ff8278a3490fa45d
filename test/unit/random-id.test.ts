import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomId } from '../../src/core/random.ts';

describe('randomId', () => {
  it('never starts with "-", which the CLI would read as an option (1 in 64 base64url ids would)', () => {
    const ids = Array.from({ length: 20_000 }, randomId);
    assert.deepEqual(ids.filter((id) => id.startsWith('-')), []);
    assert.ok(ids.every((id) => /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id)), '128 bits in 22 base64url characters');
    assert.equal(new Set(ids).size, ids.length);
    // the first character still takes the other 63 values
    assert.ok(new Set(ids.map((id) => id[0])).size > 60);
  });
});
