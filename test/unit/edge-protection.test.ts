import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProtectionMatcher } from '../../src/edge/protection.ts';

const rules = [
  { prefix: '/private/', allowedGroups: [] },
  { prefix: '/private/family/', allowedGroups: ['family'] },
];

describe('createProtectionMatcher', () => {
  const match = createProtectionMatcher(rules);

  it('leaves paths outside every prefix public', () => {
    assert.equal(match('/'), null);
    assert.equal(match('/posts/private/'), null);
  });

  it('protects a page under a prefix', () => assert.equal(match('/private/notes/')?.prefix, '/private/'));

  it('lets the longest prefix win', () => assert.deepEqual(match('/private/family/photos/')?.allowedGroups, ['family']));

  it('protects the prefix without its trailing slash', () => {
    assert.equal(match('/private')?.prefix, '/private/');
    assert.equal(match('/private/family')?.prefix, '/private/family/');
  });

  it('does not protect a sibling whose name merely starts the same way', () => assert.equal(match('/privateer'), null));

  it('ignores ASCII case, so a case-insensitive file system cannot bypass it', () => {
    assert.equal(match('/PRIVATE/x')?.prefix, '/private/');
  });

  it('ignores Unicode case and compatibility forms, which case-insensitive file systems fold as well', () => {
    const unicode = createProtectionMatcher([
      { prefix: '/secret/', allowedGroups: [] },
      { prefix: '/staff/', allowedGroups: [] },
      { prefix: '/class/', allowedGroups: [] },
      { prefix: '/café/', allowedGroups: [] },
      { prefix: '/keys/', allowedGroups: [] },
    ]);
    // long s (ext4 casefold opens /secret/ for it), the st ligature, capital sharp s, fullwidth
    // letters, a Kelvin sign, and a decomposed é against a composed prefix (macOS)
    for (const path of ['/\u017fecret/plan.html', '/\u017fECRET/', '/\ufb06aff/x', '/cla\u1e9e/x', '/\uff53\uff45\uff43\uff52\uff45\uff54/x', '/\u212aeys/x', '/cafe\u0301/menu']) {
      assert.notEqual(unicode(path), null, path);
    }
    assert.equal(unicode('/\u212aeys/x')?.prefix, '/keys/');
    assert.equal(unicode('/cafe\u0301/menu')?.prefix, '/café/');
    assert.equal(unicode('/secret-not/x'), null);
    assert.equal(match('/\u0440rivate/x'), null, 'a Cyrillic look-alike names another file, so it stays public');
  });

  it('adds the missing trailing slash to a configured prefix', () => {
    const matchBare = createProtectionMatcher([{ prefix: '/members', allowedGroups: [] }]);
    assert.equal(matchBare('/members/a')?.prefix, '/members/');
    assert.equal(matchBare('/membership'), null);
  });

  it('refuses a prefix that is not a plain absolute path', () => {
    assert.throws(() => createProtectionMatcher([{ prefix: 'private/', allowedGroups: [] }]));
    assert.throws(() => createProtectionMatcher([{ prefix: '/a/../private/', allowedGroups: [] }]));
    assert.throws(() => createProtectionMatcher([{ prefix: '/%70rivate/', allowedGroups: [] }]));
  });

  it('protects everything when the prefix is "/"', () => {
    assert.equal(createProtectionMatcher([{ prefix: '/', allowedGroups: [] }])('/index.html')?.prefix, '/');
  });
});
