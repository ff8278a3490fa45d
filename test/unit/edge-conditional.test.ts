import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ifRangeAllowsRange, isNotModified, makeEtag } from '../../src/edge/conditional.ts';

const mtimeMs = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const v = { etag: makeEtag(1234, mtimeMs), lastModifiedSeconds: Math.floor(mtimeMs / 1000) };
const lastModified = new Date(v.lastModifiedSeconds * 1000).toUTCString();

describe('conditional requests', () => {
  it('builds an nginx-shaped ETag from millisecond mtime and size', () => {
    assert.equal(makeEtag(255, 4096), '"1000-ff"');
  });

  it('gives two same-size saves within one second different ETags', () => {
    assert.notEqual(makeEtag(10, 1_000_000), makeEtag(10, 1_000_400));
  });

  it('answers 304 when If-None-Match lists the ETag, weakly compared', () => {
    assert.equal(isNotModified({ 'if-none-match': `"x", W/${v.etag}` }, v), true);
  });

  it('answers 304 for If-None-Match: *', () => assert.equal(isNotModified({ 'if-none-match': '*' }, v), true));

  it('lets If-None-Match win over a matching If-Modified-Since', () => {
    assert.equal(isNotModified({ 'if-none-match': '"other"', 'if-modified-since': lastModified }, v), false);
  });

  it('answers 304 when the file is not newer than If-Modified-Since', () => {
    assert.equal(isNotModified({ 'if-modified-since': lastModified }, v), true);
    assert.equal(isNotModified({ 'if-modified-since': new Date((v.lastModifiedSeconds + 60) * 1000).toUTCString() }, v), true);
  });

  it('sends the file when it is newer than If-Modified-Since', () => {
    assert.equal(isNotModified({ 'if-modified-since': new Date((v.lastModifiedSeconds - 1) * 1000).toUTCString() }, v), false);
  });

  it('ignores an unparseable If-Modified-Since', () => assert.equal(isNotModified({ 'if-modified-since': 'yesterday' }, v), false));

  it('honours Range when If-Range carries the exact ETag or Last-Modified', () => {
    assert.equal(ifRangeAllowsRange(v.etag, v), true);
    assert.equal(ifRangeAllowsRange(lastModified, v), true);
    assert.equal(ifRangeAllowsRange(undefined, v), true);
  });

  it('ignores Range when If-Range is stale, weak or unparseable', () => {
    assert.equal(ifRangeAllowsRange('"stale"', v), false);
    assert.equal(ifRangeAllowsRange(`W/${v.etag}`, v), false);
    assert.equal(ifRangeAllowsRange(new Date((v.lastModifiedSeconds - 1) * 1000).toUTCString(), v), false);
    assert.equal(ifRangeAllowsRange('soon', v), false);
  });
});
