import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRange } from '../../src/edge/range.ts';

describe('parseRange', () => {
  it('reads a closed range', () => assert.deepEqual(parseRange('bytes=10-19', 100), { kind: 'partial', start: 10, end: 19 }));
  it('reads an open-ended range to the last byte', () => assert.deepEqual(parseRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 }));
  it('reads a suffix range as the last n bytes', () => assert.deepEqual(parseRange('bytes=-5', 100), { kind: 'partial', start: 95, end: 99 }));
  it('clamps a suffix longer than the file to the whole file', () => assert.deepEqual(parseRange('bytes=-500', 100), { kind: 'partial', start: 0, end: 99 }));
  it('clamps a last position past the end', () => assert.deepEqual(parseRange('bytes=50-1000', 100), { kind: 'partial', start: 50, end: 99 }));
  it('accepts the unit in any case', () => assert.equal(parseRange('Bytes=0-0', 100).kind, 'partial'));
  it('finds a first position at or past the end unsatisfiable', () => assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' }));
  it('finds a closed range wholly past the end unsatisfiable', () => assert.deepEqual(parseRange('bytes=150-200', 100), { kind: 'unsatisfiable' }));
  it('finds a zero-length suffix unsatisfiable', () => assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' }));
  it('ignores several ranges (whole file)', () => assert.deepEqual(parseRange('bytes=0-1,5-6', 100), { kind: 'none' }));
  it('ignores a backwards range', () => assert.deepEqual(parseRange('bytes=20-10', 100), { kind: 'none' }));
  it('ignores other units and bad syntax', () => {
    assert.deepEqual(parseRange('items=0-1', 100), { kind: 'none' });
    assert.deepEqual(parseRange('bytes=-', 100), { kind: 'none' });
    assert.deepEqual(parseRange('bytes=a-b', 100), { kind: 'none' });
  });
  it('ignores any range on an empty file', () => assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'none' }));
  it('means nothing when there is no header', () => assert.deepEqual(parseRange(undefined, 100), { kind: 'none' }));
});
