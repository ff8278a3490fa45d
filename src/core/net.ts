import { BlockList, isIP } from 'node:net';
import { sha256Base64url } from './crypto.ts';

/**
 * A list of trusted peer addresses and CIDR ranges ("10.0.0.0/8", "::1", "127.0.0.1").
 * Returns the problems found instead of throwing, so configuration can report them all at once.
 */
export function parseAddressList(entries: string[]): { list: BlockList; problems: string[] } {
  const list = new BlockList();
  const problems: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (!entry) continue;
    const [address, prefixText, ...rest] = entry.split('/');
    const family = isIP(address);
    // "10.0.0.0/8/9" would otherwise be read as 10.0.0.0/8 and the rest dropped without a word
    if (!family || rest.length) {
      problems.push(`"${entry}" is not an IP address or CIDR range`);
      continue;
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefixText === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const prefix = Number(prefixText);
    if (!/^\d+$/.test(prefixText) || prefix > (family === 6 ? 128 : 32)) {
      problems.push(`"${entry}" has an invalid prefix length`);
      continue;
    }
    list.addSubnet(address, prefix, type);
  }
  return { list, problems };
}

/** Whether `address` (as a socket reports it, IPv4-mapped IPv6 included) is in `list`. */
export function addressInList(list: BlockList, address: string | undefined): boolean {
  if (!address) return false;
  const mapped = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const family = isIP(mapped);
  if (!family) return false;
  return list.check(mapped, family === 6 ? 'ipv6' : 'ipv4');
}

export const LOOPBACK_RANGES = ['127.0.0.0/8', '::1'];

export const isLoopbackHost = (hostname: string): boolean =>
  hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '127.0.0.1' || hostname === '[::1]' || hostname === '::1';

/**
 * The key a per-address limit counts a client under (rate limits only: the audit log keeps the
 * whole address). Never throws.
 * - IPv4, and IPv4-mapped IPv6 (::ffff:a.b.c.d, how a dual-stack socket reports an IPv4 client):
 *   the IPv4 address, "192.0.2.7".
 * - Other IPv6: its /64, "2001:db8:0:12::/64". A network link is a whole /64 (SLAAC, RFC 4862),
 *   in which a host may pick a fresh address for every attempt (temporary addresses, RFC 8981),
 *   so per address would be no limit at all. Written one way whatever the spelling (compressed or
 *   not, upper case, a zone id such as %eth0 left off), so each /64 has one key.
 * - A bracketed address, or one with a port ("[2001:db8::1]:443", "192.0.2.7:51000", as some
 *   proxies write X-Forwarded-For): the address; a new source port must not make a new key.
 * - Anything else (request.ip is X-Forwarded-For's value when TRUST_PROXY trusts it, so it can be
 *   any text) is counted under a key of its own per exact text, hashed to keep it short.
 */
export function addressLimitKey(address: string | undefined): string {
  const client = limitedClient(address);
  if ('text' in client) return client.text;
  return `${client.groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
}

/**
 * For an IPv6 client (not IPv4-mapped), its /48, "2001:db8:5::/48", written one way as
 * addressLimitKey writes a /64; null for anyone else. A /48 is 65,536 /64s: what one site or
 * customer is commonly given (RFC 6177), so one host with a /48 routed to it can send from a fresh
 * /64 each time and pass any per-/64 limit 65,536 times over. A second, larger count per /48 bounds
 * that. IPv4 has no such block: a client cannot choose among many IPv4 addresses at no cost.
 */
export function addressBlockKey(address: string | undefined): string | null {
  const client = limitedClient(address);
  if ('text' in client) return null;
  return `${client.groups.slice(0, 3).map((group) => group.toString(16)).join(':')}::/48`;
}

/** What the limit keys read from an address: a key already made (IPv4, unparsed text), or an IPv6 address's groups. */
function limitedClient(address: string | undefined): { text: string } | { groups: number[] } {
  const text = (address ?? '').trim();
  const withPort = /^\[([^\]]*)\](?::\d{1,5})?$/.exec(text) ?? /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text);
  const bare = withPort ? withPort[1] : text;
  const family = isIP(bare);
  if (family === 4) return { text: bare };
  // isIP() accepts a zone id (fe80::1%eth0), which names the machine's interface, not the client
  const groups = family === 6 ? ipv6Groups(bare.replace(/%.*$/s, '')) : null;
  if (!groups) return { text: `unparsed:${sha256Base64url(text)}` };
  // ::ffff:0:0/96, IPv4-mapped: the IPv4 client itself
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff)
    return { text: `${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}` };
  return { groups };
}

/** The eight 16-bit groups of an IPv6 address that isIP() accepted (no zone id); null if they do not come out as eight. */
function ipv6Groups(address: string): number[] | null {
  let text = address.toLowerCase();
  // a trailing dotted IPv4 part (::ffff:192.0.2.7) is the last two groups
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const [a, b, c, d] = text.slice(lastColon + 1).split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => Number.parseInt(group, 16)) : []);
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  // "::" stands for as many zero groups as are missing (at least one)
  const groups = halves.length === 2 ? [...head, ...Array<number>(Math.max(0, 8 - head.length - tail.length)).fill(0), ...tail] : head;
  return halves.length <= 2 && groups.length === 8 && groups.every((group) => group >= 0 && group <= 0xffff) ? groups : null;
}
