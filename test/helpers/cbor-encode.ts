// A tiny CBOR encoder (RFC 8949), enough for WebAuthn: unsigned and negative integers, byte and
// text strings, arrays and maps. Map keys are written in the deterministic order of RFC 8949
// §4.2.1 (bytewise order of their encodings), which for COSE keys and attestation objects is also
// CTAP2's canonical order.
export type CborValue = number | string | Uint8Array | CborValue[] | Map<CborValue, CborValue>;

const MAJOR_UNSIGNED = 0;
const MAJOR_NEGATIVE = 1;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;

/** The initial byte(s): major type in the top three bits, the argument after (RFC 8949 §3). */
function head(major: number, argument: number): Buffer {
  if (!Number.isSafeInteger(argument) || argument < 0) throw new RangeError(`CBOR argument out of range: ${argument}`);
  const type = major << 5;
  if (argument < 24) return Buffer.from([type | argument]);
  if (argument < 0x100) return Buffer.from([type | 24, argument]);
  if (argument < 0x10000) {
    const out = Buffer.alloc(3);
    out[0] = type | 25;
    out.writeUInt16BE(argument, 1);
    return out;
  }
  if (argument < 0x100000000) {
    const out = Buffer.alloc(5);
    out[0] = type | 26;
    out.writeUInt32BE(argument, 1);
    return out;
  }
  const out = Buffer.alloc(9);
  out[0] = type | 27;
  out.writeBigUInt64BE(BigInt(argument), 1);
  return out;
}

export function encodeCbor(value: CborValue): Buffer {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError('this encoder writes integers only');
    // A negative integer n is written as major type 1 with argument -1 - n (RFC 8949 §3.1).
    return value >= 0 ? head(MAJOR_UNSIGNED, value) : head(MAJOR_NEGATIVE, -1 - value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(MAJOR_TEXT, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(MAJOR_BYTES, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([head(MAJOR_ARRAY, value.length), ...value.map(encodeCbor)]);
  const entries = [...value.entries()].map(([key, item]) => [encodeCbor(key), encodeCbor(item)] as const);
  entries.sort(([a], [b]) => Buffer.compare(a, b));
  return Buffer.concat([head(MAJOR_MAP, entries.length), ...entries.flat()]);
}
