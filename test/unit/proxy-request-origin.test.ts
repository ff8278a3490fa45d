import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOriginReader, type RequestFacts } from '../../src/proxy/request-origin.ts';
import { upstreamRequestHeaders } from '../../src/proxy/upstream-request-headers.ts';

// A peer over the proxy's unix socket has no address; it is a local process and is trusted
// exactly as 127.0.0.1 would be under the same --reverse-proxy / --trusted-proxy-ip settings.

const forwarded = { host: 'internal:4180', 'x-forwarded-host': 'site.example', 'x-forwarded-proto': 'https', 'x-forwarded-uri': '/private/a?b=1' };
const viaSocket: RequestFacts = { remoteAddress: undefined, viaUnixSocket: true, headers: forwarded, url: '/oauth2/auth' };
const fromPeer = (remoteAddress: string | undefined): RequestFacts => ({ remoteAddress, headers: forwarded, url: '/oauth2/auth' });

const reader = (reverseProxy: boolean, trustedProxyIps: string[] = []) => createOriginReader({ reverseProxy, trustedProxyIps });

describe('forwarded headers from a unix-socket peer', () => {
  it('are believed with --reverse-proxy and the default trust (loopback only), as from 127.0.0.1', () => {
    const read = reader(true);
    assert.deepEqual(read(viaSocket), { scheme: 'https', host: 'site.example', uri: '/private/a?b=1', proxied: true });
    assert.deepEqual(read(fromPeer('127.0.0.1')), read(viaSocket));
  });

  it('are believed when --trusted-proxy-ip names a loopback address or range', () => {
    for (const trusted of [['127.0.0.1'], ['127.0.0.0/8'], ['::1'], ['10.0.0.0/8', '127.0.0.1']]) assert.equal(reader(true, trusted)(viaSocket).proxied, true, trusted.join(','));
  });

  it('are ignored without --reverse-proxy, as from 127.0.0.1', () => {
    const origin = reader(false)(viaSocket);
    assert.deepEqual(origin, { scheme: 'http', host: 'internal:4180', uri: '/oauth2/auth', proxied: false });
    assert.deepEqual(reader(false)(fromPeer('127.0.0.1')), origin);
  });

  it('are ignored when --trusted-proxy-ip leaves loopback out, as from 127.0.0.1', () => {
    const read = reader(true, ['10.0.0.5']);
    assert.equal(read(viaSocket).proxied, false);
    assert.equal(read(viaSocket).host, 'internal:4180');
    assert.equal(read(fromPeer('127.0.0.1')).proxied, false);
    assert.equal(read(fromPeer('10.0.0.5')).proxied, true);
  });
});

describe('forwarded headers from TCP peers are still judged by their address', () => {
  it('refuses an untrusted TCP peer under the default trust', () => {
    const read = reader(true);
    for (const address of ['203.0.113.7', '10.0.0.5', '::ffff:192.0.2.1', '2001:db8::1']) {
      const origin = read(fromPeer(address));
      assert.equal(origin.proxied, false, address);
      assert.equal(origin.host, 'internal:4180', address);
      assert.equal(origin.scheme, 'http', address);
    }
  });

  it('refuses a peer whose address is unknown unless its connection came over the unix socket', () => {
    // a TCP client that already hung up also reports no address: it must not pass as local
    assert.equal(reader(true)(fromPeer(undefined)).proxied, false);
    assert.equal(reader(true)({ ...fromPeer(undefined), viaUnixSocket: false }).proxied, false);
  });
});

describe('X-Forwarded-For sent to an http upstream', () => {
  const config = { passAccessToken: false, passAuthorizationHeader: false };
  const headers = { ...forwarded, 'x-forwarded-for': '198.51.100.4' };

  it('passes the chain a trusted unix-socket peer sent, adding no empty entry for it', () => {
    const origin = reader(true)({ ...viaSocket, headers });
    assert.equal(upstreamRequestHeaders(config, headers, { remoteAddress: undefined, origin }, null)['x-forwarded-for'], '198.51.100.4');
  });

  it('sends none at all when neither the peer nor a trusted chain names an address', () => {
    const origin = reader(false)({ ...viaSocket, headers });
    assert.equal(upstreamRequestHeaders(config, headers, { remoteAddress: undefined, origin }, null)['x-forwarded-for'], undefined);
  });

  it('appends a TCP peer to the chain it is trusted for, as before', () => {
    const origin = reader(true)({ ...fromPeer('127.0.0.1'), headers });
    assert.equal(upstreamRequestHeaders(config, headers, { remoteAddress: '127.0.0.1', origin }, null)['x-forwarded-for'], '198.51.100.4, 127.0.0.1');
    const untrusted = reader(true)({ ...fromPeer('203.0.113.7'), headers });
    assert.equal(upstreamRequestHeaders(config, headers, { remoteAddress: '203.0.113.7', origin: untrusted }, null)['x-forwarded-for'], '203.0.113.7');
  });
});

describe('identity and forwarding headers spelled with underscores', () => {
  const origin = { scheme: 'https' as const, host: 'site.example', uri: '/', proxied: true };
  const session = { sub: 'user-1', email: 'alice@example.com', emailVerified: true, preferredUsername: 'alice', groups: [], idToken: '', accessToken: '', refreshToken: '', sid: '', createdAt: 0, expiresAt: 1, refreshAt: 0 };
  // what a client sends hoping the app (WSGI, PHP, Rack, CGI) reads them as the dash spelling
  const forged = {
    x_forwarded_email: 'admin@example.com', 'x-forwarded_user': 'admin', x_forwarded_groups: 'admins', x_auth_request_email: 'admin@example.com',
    x_real_ip: '6.6.6.6', x_forwarded_for: '6.6.6.6', 'x-forwarded-for': '198.51.100.4', x_custom: 'kept',
  };

  it('are removed, so a signed-in user without groups cannot give themselves one, nor anyone an address', () => {
    const headers = upstreamRequestHeaders({ passAccessToken: false, passAuthorizationHeader: false }, forged, { remoteAddress: '127.0.0.1', origin }, session);
    for (const name of ['x_forwarded_email', 'x-forwarded_user', 'x_forwarded_groups', 'x_auth_request_email', 'x_real_ip', 'x_forwarded_for']) assert.equal(headers[name], undefined, name);
    assert.equal(headers['x-forwarded-groups'], undefined, 'alice has no groups, and none was made up for her');
    assert.equal(headers['x-forwarded-email'], 'alice@example.com');
    assert.equal(headers['x-forwarded-for'], '198.51.100.4, 127.0.0.1', 'the dash spelling from a trusted proxy is still believed');
    assert.equal(headers.x_custom, 'kept', 'other underscore headers are the app\'s business');
  });

  it('are removed on a request without a session too (a skip-auth route)', () => {
    const headers = upstreamRequestHeaders({ passAccessToken: false, passAuthorizationHeader: false }, forged, { remoteAddress: '127.0.0.1', origin: { ...origin, proxied: false } }, null);
    assert.deepEqual(Object.keys(headers).filter((name) => name.includes('_')), ['x_custom']);
  });
});
