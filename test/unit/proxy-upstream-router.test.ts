import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Upstream } from '../../src/proxy/config.ts';
import { createUpstreamRouter } from '../../src/proxy/upstream-router.ts';

const http = (url: string): Upstream => ({ kind: 'http', url: new URL(url) });
const file = (path: string): Upstream => ({ kind: 'file', directory: '/srv/site', path });

describe('createUpstreamRouter', () => {
  it('gives a path to the upstream with the longest matching path', () => {
    const blog = http('http://127.0.0.1:1313/blog/');
    const root = http('http://127.0.0.1:8080');
    const route = createUpstreamRouter([root, blog]);
    assert.deepEqual(route('/blog/post'), { kind: 'upstream', upstream: blog, mountPath: '/blog/' });
    assert.deepEqual(route('/about'), { kind: 'upstream', upstream: root, mountPath: '/' });
  });

  it('lets a path without a trailing slash own only itself', () => {
    const exact = file('/report.pdf');
    const route = createUpstreamRouter([exact]);
    assert.equal(route('/report.pdf').kind, 'upstream');
    assert.equal(route('/report.pdf/x').kind, 'none');
  });

  it('sends a path that only matches with a slash added to the slash', () => {
    const route = createUpstreamRouter([file('/docs/')]);
    assert.equal(route('/docs').kind, 'add-slash');
    assert.equal(route('/other').kind, 'none');
  });

  it('gives the root upstream a path that a longer one owns only with a slash added, as oauth2-proxy v7 does', () => {
    const root: Upstream = { kind: 'static', statusCode: 202 };
    assert.deepEqual(createUpstreamRouter([file('/docs/'), root])('/docs'), { kind: 'upstream', upstream: root, mountPath: '/' });
  });

  it('keeps the configured order between upstreams of the same path', () => {
    const first = http('http://127.0.0.1:1/app/');
    const second = http('http://127.0.0.1:2/app/');
    const match = createUpstreamRouter([first, second])('/app/x');
    assert.equal(match.kind === 'upstream' && match.upstream, first);
  });
});
