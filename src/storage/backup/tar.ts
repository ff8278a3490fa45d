// A minimal POSIX ustar reader and writer: enough for a backup archive of a few regular files,
// which operators can still inspect with `tar -tzf` (POSIX.1-1988 ustar, IEEE Std 1003.1 "pax" §ustar).
const BLOCK = 512;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** The 512-byte header of one regular file. */
export function tarHeader(name: string, size: number, mtimeMs: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name too long: ${name}`);
  const header = Buffer.alloc(BLOCK, 0);
  header.write(name, 0, 100, 'utf8');
  header.write(octal(0o600, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(size, 12), 124, 'ascii');
  header.write(octal(Math.floor(mtimeMs / 1000), 12), 136, 'ascii');
  header.write('        ', 148, 'ascii'); // checksum is computed with its own field as spaces
  header.write('0', 156, 'ascii');
  header.write('ustar\0' + '00', 257, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(octal(sum, 7) + ' ', 148, 'ascii');
  return header;
}

export const tarPadding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK, 0);
/** Two zero blocks end an archive. */
export const tarEnd = (): Buffer => Buffer.alloc(2 * BLOCK, 0);

export interface TarEntryStart {
  name: string;
  size: number;
}

function parseHeader(block: Buffer): TarEntryStart | null {
  if (block.every((byte) => byte === 0)) return null;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  const recorded = parseInt(block.toString('ascii', 148, 156).replace(/\0.*$/s, '').trim(), 8);
  if (recorded !== sum) throw new Error('tar: header checksum mismatch');
  const name = block.toString('utf8', 0, 100).replace(/\0.*$/s, '');
  const size = parseInt(block.toString('ascii', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error('tar: bad size');
  return { name, size };
}

/**
 * Reads a tar stream: `onEntry(name, size)` returns a sink for the entry's bytes (or null to skip).
 * Streams, so a large database never has to fit in memory.
 */
export async function readTar(
  chunks: AsyncIterable<Buffer>,
  onEntry: (entry: TarEntryStart) => { write(chunk: Buffer): Promise<void> | void; end(): Promise<void> | void } | null,
): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  let entry: { sink: ReturnType<typeof onEntry>; remaining: number; padding: number } | null = null;
  let ended = false;
  for await (const chunk of chunks) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (!ended) {
      if (entry) {
        if (entry.remaining > 0) {
          if (!pending.length) break;
          const take = Math.min(entry.remaining, pending.length);
          await entry.sink?.write(pending.subarray(0, take));
          pending = pending.subarray(take);
          entry.remaining -= take;
          if (entry.remaining > 0) break;
        }
        if (pending.length < entry.padding) break;
        pending = pending.subarray(entry.padding);
        await entry.sink?.end();
        entry = null;
        continue;
      }
      if (pending.length < BLOCK) break;
      const start = parseHeader(pending.subarray(0, BLOCK));
      pending = pending.subarray(BLOCK);
      if (!start) {
        ended = true;
        break;
      }
      entry = { sink: onEntry(start), remaining: start.size, padding: (BLOCK - (start.size % BLOCK)) % BLOCK };
    }
  }
  if (entry || !ended) throw new Error('tar: archive ends early');
}
