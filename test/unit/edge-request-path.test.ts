import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodePathForLocation, normaliseRequestPath, splitAbsoluteForm } from '../../src/edge/request-path.ts';

const pathOf = (target: string) => {
  const result = normaliseRequestPath(target);
  assert.ok(result.ok, `expected ${target} to be accepted`);
  return result.pathname;
};
const refused = (target: string) => {
  const result = normaliseRequestPath(target);
  assert.equal(result.ok, false, `expected ${target} to be refused`);
};

describe('normaliseRequestPath', () => {
  it('keeps an ordinary path and splits off the query string', () => {
    assert.deepEqual(normaliseRequestPath('/posts/hello/?a=1&b=2'), { ok: true, pathname: '/posts/hello/', query: '?a=1&b=2' });
  });

  it('resolves ".." without climbing above the root', () => {
    assert.equal(pathOf('/../../etc/passwd'), '/etc/passwd');
    assert.equal(pathOf('/private/../private/x'), '/private/x');
    assert.equal(pathOf('/a/b/..'), '/a/');
  });

  it('drops "." segments and merges runs of slashes', () => {
    assert.equal(pathOf('/./private/x'), '/private/x');
    assert.equal(pathOf('//private///x'), '/private/x');
    assert.equal(pathOf('/a/.'), '/a/');
  });

  it('percent-decodes exactly once', () => {
    assert.equal(pathOf('/%70rivate/x'), '/private/x');
    assert.equal(pathOf('/a%2520b'), '/a%20b');
    assert.equal(pathOf('/caf%C3%A9'), '/café');
  });

  it('refuses a raw "#" (never part of a request-target), keeps an encoded one as a character', () => {
    refused('/private/x#.css');
    assert.equal(pathOf('/notes%23.css'), '/notes#.css');
    assert.deepEqual(normaliseRequestPath('/a?b#c'), { ok: true, pathname: '/a', query: '?b#c' });
  });

  it('treats encoded dots as dot segments after decoding', () => {
    assert.equal(pathOf('/private/%2e%2e/public'), '/public');
  });

  it('refuses encoded slashes and backslashes in either case', () => {
    refused('/private%2fx');
    refused('/private%2Fx');
    refused('/private%5cx');
    refused('/private%5Cx');
  });

  it('refuses raw backslashes', () => refused('/private\\x'));

  it('refuses NUL bytes, encoded or raw', () => {
    refused('/index.html%00.txt');
    refused('/index.html\0');
  });

  it('refuses malformed percent-encoding', () => {
    refused('/a%zz');
    refused('/a%4');
    refused('/a%');
  });

  it('refuses percent-encoding that is not UTF-8', () => refused('/a%ff'));

  it('refuses a target that does not start with a slash', () => {
    refused('http://example.com/');
    refused('*');
  });

  it('re-encodes a decoded path for a Location header, segment by segment', () => {
    assert.equal(encodePathForLocation('/a b/café/'), '/a%20b/caf%C3%A9/');
  });
});

describe('splitAbsoluteForm (RFC 9112 §3.2.2)', () => {
  const split = (target: string) => {
    const result = splitAbsoluteForm(target);
    assert.ok(result?.ok, `expected ${target} to be accepted`);
    return { originForm: result.originForm, authority: result.authority };
  };
  const refusedAbsolute = (target: string) => assert.equal(splitAbsoluteForm(target)?.ok, false, `expected ${target} to be refused`);

  it('takes the path and query from the URI and the host from its authority', () => {
    assert.deepEqual(split('http://127.0.0.1:8080/private/secret.html?a=1'), { originForm: '/private/secret.html?a=1', authority: '127.0.0.1:8080' });
    assert.deepEqual(split('https://Example.com/'), { originForm: '/', authority: 'Example.com' });
    assert.deepEqual(split('HTTP://[::1]:80/x'), { originForm: '/x', authority: '[::1]:80' });
  });

  it('reads an empty path as "/" and keeps a query that follows the authority', () => {
    assert.deepEqual(split('http://example.com'), { originForm: '/', authority: 'example.com' });
    assert.deepEqual(split('http://example.com?x=1'), { originForm: '/?x=1', authority: 'example.com' });
  });

  it('hands the path over as sent, for normaliseRequestPath to clean or refuse as in origin-form', () => {
    assert.equal(split('http://h//private/x').originForm, '//private/x');
    assert.equal(pathOf(split('http://h//private/x').originForm), '/private/x');
    assert.equal(pathOf(split('http://h/public/../%70rivate/x').originForm), '/private/x');
    refused(split('http://h/private%2fx').originForm);
  });

  it('refuses schemes other than http and https', () => {
    refusedAbsolute('ftp://example.com/private/x');
    refusedAbsolute('file:///etc/passwd');
    refusedAbsolute('javascript://example.com/%0aalert(1)');
  });

  it('refuses userinfo, an empty or malformed host, and a fragment', () => {
    refusedAbsolute('http://user:password@example.com/private/x');
    refusedAbsolute('http://@example.com/');
    refusedAbsolute('http:///private/x');
    refusedAbsolute('http://example.com:port/');
    refusedAbsolute('http://exa%6dple.com/');
    refusedAbsolute('http://example.com#/private/x');
  });

  it('leaves origin-form, asterisk-form and scheme-less targets alone', () => {
    assert.equal(splitAbsoluteForm('/private/x'), null);
    assert.equal(splitAbsoluteForm('*'), null);
    assert.equal(splitAbsoluteForm('http:/private/x'), null); // not absolute-form: normaliseRequestPath refuses it
    assert.equal(splitAbsoluteForm('example.com:80'), null);
  });
});
