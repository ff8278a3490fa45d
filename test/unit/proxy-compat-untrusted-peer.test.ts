// With --reverse-proxy, X-Forwarded-* from a peer outside --trusted-proxy-ip (unset: loopback only)
// are ignored, where oauth2-proxy would believe them: a proxy in front on a Docker bridge or a
// Kubernetes ingress would silently get the wrong scheme and host. Each such peer is named once in
// a warning that says which flag to set; a bounded number of them, then the notice rests an hour.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { createProxyRuntime } from '../../src/proxy/proxy-runtime.ts';
import { createOriginReader, type RequestFacts } from '../../src/proxy/request-origin.ts';
import { proxyConfigFixture } from '../helpers/proxy-config-fixture.ts';

/** The bound docs/configuration-proxy.md gives (request-origin.ts UNTRUSTED_PEERS_REPORTED). */
const UNTRUSTED_PEERS_REPORTED = 32;

const forwarded = { host: 'proxy:4180', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'site.example' };
const from = (remoteAddress: string, headers: RequestFacts['headers'] = forwarded): RequestFacts => ({ remoteAddress, headers, url: '/oauth2/start' });

function recorder() {
  const lines: { object: Record<string, unknown>; message: string }[] = [];
  return { lines, logger: { warn: (object: object, message = '') => void lines.push({ object: object as Record<string, unknown>, message }) } };
}

describe('forwarded headers from an untrusted peer', () => {
  it('are ignored as before, and a warning names the peer, the headers and --trusted-proxy-ip, once per address', () => {
    const { lines, logger } = recorder();
    const read = createOriginReader({ reverseProxy: true, trustedProxyIps: [] }, logger);
    const origin = read(from('172.17.0.1'));
    assert.equal(origin.proxied, false);
    assert.equal(origin.host, 'proxy:4180');
    assert.equal(origin.scheme, 'http');
    read(from('172.17.0.1'));
    read(from('172.17.0.1', { ...forwarded, 'x-forwarded-for': '203.0.113.9' }));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].object.event, 'forwarded_headers_untrusted');
    assert.equal(lines[0].object.peer, '172.17.0.1');
    assert.deepEqual(lines[0].object.headers, ['x-forwarded-proto', 'x-forwarded-host']);
    assert.match(lines[0].message, /--trusted-proxy-ip=172\.17\.0\.1\b/);
    assert.match(lines[0].message, /OAUTH2_PROXY_TRUSTED_PROXY_IPS/);
    read(from('::ffff:10.1.2.3', { 'x-forwarded-uri': '/private/a' }));
    assert.equal(lines.length, 2, 'another address is named too');
    assert.match(lines[1].message, /x-forwarded-uri from ::ffff:10\.1\.2\.3 ignored/);
    assert.match(lines[1].message, /--trusted-proxy-ip=10\.1\.2\.3 /, 'the address as it would be written in the flag');
  });

  it('says "add" when a --trusted-proxy-ip list is set but leaves the peer out', () => {
    const { lines, logger } = recorder();
    createOriginReader({ reverseProxy: true, trustedProxyIps: ['10.0.0.0/8'] }, logger)(from('192.168.1.4'));
    assert.match(lines[0].message, /add 192\.168\.1\.4 .*to --trusted-proxy-ip/);
  });

  it('says nothing for a trusted peer, a peer without forwarded headers, or without --reverse-proxy', () => {
    const { lines, logger } = recorder();
    const read = createOriginReader({ reverseProxy: true, trustedProxyIps: [] }, logger);
    assert.equal(read(from('127.0.0.1')).proxied, true);
    read(from('172.17.0.1', { host: 'proxy:4180', accept: 'text/html' }));
    createOriginReader({ reverseProxy: false, trustedProxyIps: [] }, logger)(from('172.17.0.1'));
    assert.deepEqual(lines, []);
  });

  it(`remembers at most ${UNTRUSTED_PEERS_REPORTED} addresses, then says so once and rests for an hour, not for good`, () => {
    const { lines, logger } = recorder();
    const clock = manualClock(Date.now());
    const read = createOriginReader({ reverseProxy: true, trustedProxyIps: [] }, logger, clock);
    for (let i = 0; i < UNTRUSTED_PEERS_REPORTED + 20; i++) read(from(`198.51.100.${i}`));
    assert.equal(lines.length, UNTRUSTED_PEERS_REPORTED + 1);
    assert.equal(lines.at(-1)!.object.event, 'forwarded_headers_untrusted_stopped');
    read(from('198.51.100.0'));
    read(from('203.0.113.200'));
    assert.equal(lines.length, UNTRUSTED_PEERS_REPORTED + 1, 'nothing more, not even for a new address');
    clock.advanceMs(3_600_000);
    read(from('203.0.113.200'));
    assert.equal(lines.length, UNTRUSTED_PEERS_REPORTED + 2, 'an hour later, the real proxy is named again');
    assert.equal(lines.at(-1)!.object.peer, '203.0.113.200');
  });

  it("goes to the proxy's own log", () => {
    const { lines, logger } = recorder();
    const rt = createProxyRuntime(proxyConfigFixture({ reverseProxy: true }), { logger: { ...logger, debug() {}, info() {}, error() {} } });
    rt.origin(from('10.42.0.7'));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].object.peer, '10.42.0.7');
  });
});
