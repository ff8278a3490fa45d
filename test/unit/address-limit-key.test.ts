// Per-address limits count an IPv6 client by its /64 and an IPv4 client (mapped or not) by its
// address, whatever way the address is written; any other text still gets a key, and nothing throws.
// An IPv6 client is also counted by its /48 (addressBlockKey); nobody else is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressBlockKey, addressLimitKey } from '../../src/core/net.ts';

describe('addressLimitKey', () => {
  it('keeps an IPv4 address as it is', () => {
    assert.equal(addressLimitKey('192.0.2.7'), '192.0.2.7');
    assert.equal(addressLimitKey('127.0.0.1'), '127.0.0.1');
    assert.equal(addressLimitKey('0.0.0.0'), '0.0.0.0');
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address, however it is written', () => {
    for (const mapped of ['::ffff:192.0.2.7', '::FFFF:192.0.2.7', '0:0:0:0:0:ffff:192.0.2.7', '::ffff:c000:207', '0000:0000:0000:0000:0000:FFFF:C000:0207', '[::ffff:192.0.2.7]:8080'])
      assert.equal(addressLimitKey(mapped), '192.0.2.7', mapped);
  });

  it('counts every address of one /64 under one key', () => {
    const keys = new Set(['2001:db8:5:7::1', '2001:db8:5:7::2', '2001:db8:5:7:a::9', '2001:db8:5:7:ffff:ffff:ffff:ffff', '2001:db8:5:7::'].map(addressLimitKey));
    assert.deepEqual([...keys], ['2001:db8:5:7::/64']);
  });

  it('tells the /64s apart', () => {
    assert.notEqual(addressLimitKey('2001:db8:5:7::1'), addressLimitKey('2001:db8:5:8::1'));
    assert.notEqual(addressLimitKey('2001:db8:5:7::1'), addressLimitKey('2001:db9:5:7::1'));
    assert.equal(addressLimitKey('2001:db8:5::1'), '2001:db8:5:0::/64');
    assert.equal(addressLimitKey('2001:db8::5:7:0:1'), '2001:db8:0:0::/64', ':: here stands for two groups, inside the /64');
    assert.equal(addressLimitKey('2001:db8:1:2:3::'), '2001:db8:1:2::/64');
  });

  it('writes a /64 one way, compressed or expanded, in upper or lower case, with or without leading zeros', () => {
    for (const spelling of ['2001:db8:0:12::1', '2001:0db8:0000:0012:0000:0000:0000:0001', '2001:DB8:0:12:0:0:0:1', '2001:db8::12:0:0:0:1', '2001:db8:0:12:0::1'])
      assert.equal(addressLimitKey(spelling), '2001:db8:0:12::/64', spelling);
  });

  it('expands :: at either end and alone', () => {
    assert.equal(addressLimitKey('::1'), '0:0:0:0::/64');
    assert.equal(addressLimitKey('::'), '0:0:0:0::/64');
    assert.equal(addressLimitKey('fe80::'), 'fe80:0:0:0::/64');
    assert.equal(addressLimitKey('1:2:3:4:5:6:7::'), '1:2:3:4::/64');
    assert.equal(addressLimitKey('::2:3:4:5:6:7:8'), '0:2:3:4::/64');
    assert.equal(addressLimitKey('1:2:3:4:5:6:7:8'), '1:2:3:4::/64');
  });

  it('reads a trailing dotted part of an address that is not IPv4-mapped as its last two groups', () => {
    assert.equal(addressLimitKey('64:ff9b::192.0.2.7'), '64:ff9b:0:0::/64');
    assert.equal(addressLimitKey('::192.0.2.7'), '0:0:0:0::/64');
    assert.equal(addressLimitKey('1:2:3:4:5:6:192.0.2.7'), '1:2:3:4::/64');
  });

  it('leaves off a zone id', () => {
    assert.equal(addressLimitKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressLimitKey('fe80::1%25'), addressLimitKey('fe80::2%wlan0'));
  });

  it('leaves off the brackets and port some proxies write, so a new source port makes no new key', () => {
    assert.equal(addressLimitKey('[2001:db8:5:7::1]:443'), '2001:db8:5:7::/64');
    assert.equal(addressLimitKey('[2001:db8:5:7::1]'), '2001:db8:5:7::/64');
    assert.equal(addressLimitKey('192.0.2.7:51000'), '192.0.2.7');
    assert.equal(addressLimitKey(' 192.0.2.7 '), '192.0.2.7');
  });

  it('counts any other text under a short key of its own per exact text, and never throws', () => {
    const garbage = ['', 'unknown', 'not an address', '192.0.2.256', '1.2.3', '010.0.0.1', '1:2:3:4:5:6:7:8:9', '1::2::3', ':::', 'fe80::1%', '[::1', '::1]', 'gggg::1',
      '2001:db8::1, 198.51.100.1', '<script>', 'x'.repeat(10_000), '%', '[]', '[]:80', '1.2.3.4:99999999'];
    const keys = garbage.map((text) => addressLimitKey(text));
    for (const [i, key] of keys.entries()) {
      assert.match(key, /^unparsed:[A-Za-z0-9_-]{43}$/, JSON.stringify(garbage[i].slice(0, 40)));
      assert.equal(addressLimitKey(garbage[i]), key, 'the same text, the same key');
    }
    assert.equal(new Set(keys).size, garbage.length, 'each text its own key');
    assert.equal(addressLimitKey(undefined), addressLimitKey(''));
  });
});

describe('addressBlockKey', () => {
  it('counts every /64 of one /48 under one key, written one way however the address is', () => {
    const keys = new Set(['2001:db8:5:7::1', '2001:db8:5:ffff::9', '2001:db8:5::', '2001:0DB8:0005:0000::1', '[2001:db8:5:1::1]:443', '2001:db8:5:2::1%eth0'].map(addressBlockKey));
    assert.deepEqual([...keys], ['2001:db8:5::/48']);
  });

  it('tells the /48s apart', () => {
    assert.notEqual(addressBlockKey('2001:db8:5:7::1'), addressBlockKey('2001:db8:6:7::1'));
    assert.equal(addressBlockKey('2001:db8::1'), '2001:db8:0::/48');
    assert.equal(addressBlockKey('::1'), '0:0:0::/48');
  });

  it('gives IPv4 clients, IPv4-mapped ones included, and text that is not an address no block', () => {
    for (const text of ['192.0.2.7', '::ffff:192.0.2.7', '192.0.2.7:51000', 'unknown', '', '1::2::3', 'x'.repeat(1000)]) assert.equal(addressBlockKey(text), null, text.slice(0, 40));
    assert.equal(addressBlockKey(undefined), null);
  });
});
