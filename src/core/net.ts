import { BlockList, isIP } from 'node:net';

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
