import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseEncoding } from '../../src/edge/accept-encoding.ts';

const both = { br: true, gzip: true };

describe('chooseEncoding', () => {
  it('prefers brotli when both are acceptable and equally weighted', () => assert.equal(chooseEncoding('gzip, deflate, br', both), 'br'));
  it('falls back to gzip when only gzip exists', () => assert.equal(chooseEncoding('gzip, br', { br: false, gzip: true }), 'gzip'));
  it('respects q=0 on brotli', () => assert.equal(chooseEncoding('br;q=0, gzip', both), 'gzip'));
  it('lets q=0 override a wildcard', () => assert.equal(chooseEncoding('*, br;q=0, gzip;q=0', both), null));
  it('lets a wildcard accept both', () => assert.equal(chooseEncoding('*', both), 'br'));
  it('picks the higher q-value', () => assert.equal(chooseEncoding('br;q=0.5, gzip;q=0.9', both), 'gzip'));
  it('treats x-gzip as gzip', () => assert.equal(chooseEncoding('x-gzip', both), 'gzip'));
  it('sends the file itself when nothing is accepted', () => {
    assert.equal(chooseEncoding(undefined, both), null);
    assert.equal(chooseEncoding('identity', both), null);
    assert.equal(chooseEncoding('deflate', both), null);
  });
  it('does not enable a coding with a malformed q-value', () => assert.equal(chooseEncoding('br;q=banana', { br: true, gzip: false }), null));
  it('sends the file itself when no sibling exists', () => assert.equal(chooseEncoding('br, gzip', { br: false, gzip: false }), null));
});

describe('chooseEncoding remembers header values', () => {
  it('answers each header value for itself, and for the siblings each file has, however often it is asked', () => {
    for (let round = 0; round < 3; round++) {
      assert.equal(chooseEncoding('br;q=0, gzip', both), 'gzip');
      assert.equal(chooseEncoding('br, gzip', both), 'br');
      assert.equal(chooseEncoding('br;q=0, gzip', { br: true, gzip: false }), null);
      assert.equal(chooseEncoding('br, gzip', { br: false, gzip: true }), 'gzip');
    }
  });

  it('stays right past its bound (many distinct values)', () => {
    for (let i = 0; i < 200; i++) {
      assert.equal(chooseEncoding(`gzip;q=0.${i % 9 + 1}, br;q=0.5, x-${i}`, both), i % 9 + 1 > 5 ? 'gzip' : 'br');
    }
    assert.equal(chooseEncoding('gzip, deflate, br, zstd', both), 'br');
  });
});
