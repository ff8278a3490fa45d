import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ifRangeAllowsRange, isNotModified, makeEtag, parseHttpDateSeconds, preconditionFailed } from '../../src/edge/conditional.ts';

const mtimeMs = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const v = { etag: makeEtag(1234, mtimeMs), lastModifiedSeconds: Math.floor(mtimeMs / 1000) };
const lastModified = new Date(v.lastModifiedSeconds * 1000).toUTCString();
const now = v.lastModifiedSeconds + 3600;

describe('conditional requests', () => {
  it('builds an nginx-shaped ETag from millisecond mtime and size', () => {
    assert.equal(makeEtag(255, 4096), '"1000-ff"');
  });

  it('marks a precompressed representation\'s ETag with its encoding, so a same-size sibling with the same mtime differs', () => {
    assert.equal(makeEtag(255, 4096, 'gzip'), '"1000-ff-gzip"');
    assert.equal(makeEtag(255, 4096, 'br'), '"1000-ff-br"');
    assert.equal(new Set([makeEtag(255, 4096), makeEtag(255, 4096, 'gzip'), makeEtag(255, 4096, 'br')]).size, 3);
  });

  it('gives two same-size saves within one second different ETags', () => {
    assert.notEqual(makeEtag(10, 1_000_000), makeEtag(10, 1_000_400));
  });

  it('answers 304 when If-None-Match lists the ETag, weakly compared', () => {
    assert.equal(isNotModified({ 'if-none-match': `"x", W/${v.etag}` }, v, now), true);
  });

  it('answers 304 for If-None-Match: *', () => assert.equal(isNotModified({ 'if-none-match': '*' }, v, now), true));

  it('lets If-None-Match win over a matching If-Modified-Since', () => {
    assert.equal(isNotModified({ 'if-none-match': '"other"', 'if-modified-since': lastModified }, v, now), false);
  });

  it('answers 304 when the file is not newer than If-Modified-Since', () => {
    assert.equal(isNotModified({ 'if-modified-since': lastModified }, v, now), true);
    assert.equal(isNotModified({ 'if-modified-since': new Date((v.lastModifiedSeconds + 60) * 1000).toUTCString() }, v, now), true);
  });

  it('sends the file when it is newer than If-Modified-Since', () => {
    assert.equal(isNotModified({ 'if-modified-since': new Date((v.lastModifiedSeconds - 1) * 1000).toUTCString() }, v, now), false);
  });

  it('ignores an unparseable If-Modified-Since', () => assert.equal(isNotModified({ 'if-modified-since': 'yesterday' }, v, now), false));

  it('ignores an If-Modified-Since that is not an HTTP-date, though Date.parse would read it', () => {
    for (const value of ['2099', '1 x 9999', '2099-01-01T00:00:00Z', 'Sat, 01 Jan 2099 00:00:00 +0000', 'sat, 01 jan 2099 00:00:00 gmt',
      'Thu, 31 Feb 2026 00:00:00 GMT', 'Fri, 02 Jan 2026 24:00:00 GMT']) {
      assert.equal(isNotModified({ 'if-modified-since': value }, v, Date.UTC(2100, 0, 1) / 1000), false, value);
    }
  });

  it('reads the IMF-fixdate, rfc850 and asctime forms of the same date (RFC 9110 §5.6.7)', () => {
    const expected = Date.UTC(2026, 0, 2, 3, 4, 5) / 1000;
    assert.equal(parseHttpDateSeconds('Fri, 02 Jan 2026 03:04:05 GMT', now), expected);
    assert.equal(parseHttpDateSeconds('Friday, 02-Jan-26 03:04:05 GMT', now), expected);
    assert.equal(parseHttpDateSeconds('Fri Jan  2 03:04:05 2026', now), expected);
  });

  it('reads a two-digit rfc850 year more than 50 years ahead as the past century\'s', () => {
    assert.equal(parseHttpDateSeconds('Sunday, 06-Nov-94 08:49:37 GMT', now), Date.UTC(1994, 10, 6, 8, 49, 37) / 1000);
    // fifty years on counts the day, not only the year: on 1 January 2026, November 2076 is too far ahead
    const newYear2026 = Date.UTC(2026, 0, 1) / 1000;
    assert.equal(parseHttpDateSeconds('Sunday, 06-Nov-76 08:49:37 GMT', newYear2026), Date.UTC(1976, 10, 6, 8, 49, 37) / 1000);
    assert.equal(parseHttpDateSeconds('Friday, 06-Nov-26 08:49:37 GMT', newYear2026), Date.UTC(2026, 10, 6, 8, 49, 37) / 1000);
  });

  it('ignores an If-Modified-Since later than now (RFC 9110 §13.1.3)', () => {
    const tomorrow = new Date((now + 86400) * 1000).toUTCString();
    assert.equal(isNotModified({ 'if-modified-since': tomorrow }, v, now), false);
  });

  it('fails If-Match unless it lists the ETag, strongly compared, or is *', () => {
    assert.equal(preconditionFailed({ 'if-match': `"x", ${v.etag}` }, v, now), false);
    assert.equal(preconditionFailed({ 'if-match': '*' }, v, now), false);
    assert.equal(preconditionFailed({ 'if-match': '"x"' }, v, now), true);
    assert.equal(preconditionFailed({ 'if-match': `W/${v.etag}` }, v, now), true);
  });

  it('fails If-Unmodified-Since when the file changed after that date', () => {
    assert.equal(preconditionFailed({ 'if-unmodified-since': lastModified }, v, now), false);
    assert.equal(preconditionFailed({ 'if-unmodified-since': new Date((v.lastModifiedSeconds - 1) * 1000).toUTCString() }, v, now), true);
  });

  it('lets If-Match decide over If-Unmodified-Since, and ignores an If-Unmodified-Since that is not an HTTP-date', () => {
    const before = new Date((v.lastModifiedSeconds - 1) * 1000).toUTCString();
    assert.equal(preconditionFailed({ 'if-match': v.etag, 'if-unmodified-since': before }, v, now), false);
    assert.equal(preconditionFailed({ 'if-unmodified-since': '1970' }, v, now), false);
  });

  it('honours Range when If-Range carries the exact ETag or Last-Modified', () => {
    assert.equal(ifRangeAllowsRange(v.etag, v, now), true);
    assert.equal(ifRangeAllowsRange(lastModified, v, now), true);
    assert.equal(ifRangeAllowsRange(undefined, v, now), true);
  });

  it('ignores Range when If-Range is stale, weak or unparseable', () => {
    assert.equal(ifRangeAllowsRange('"stale"', v, now), false);
    assert.equal(ifRangeAllowsRange(`W/${v.etag}`, v, now), false);
    assert.equal(ifRangeAllowsRange(new Date((v.lastModifiedSeconds - 1) * 1000).toUTCString(), v, now), false);
    assert.equal(ifRangeAllowsRange('soon', v, now), false);
  });
});
