// Parses a Range header for one representation (RFC 9110 §14.1.2, §14.2).
//
// Only a single byte range is honoured: `bytes=a-b`, `bytes=a-`, `bytes=-n`. A request for
// several ranges gets the whole file with 200, which RFC 9110 §14.2 allows ("a server MAY ignore
// the Range header field") and which avoids multipart/byteranges, used by almost no client of a
// static site and a known amplification vector (many overlapping ranges). Syntax we do not
// understand, another unit, or an empty representation is likewise ignored (whole file, 200).

export type RangeResult =
  | { kind: 'none' } // serve the whole representation
  | { kind: 'partial'; start: number; end: number } // inclusive byte positions
  | { kind: 'unsatisfiable' }; // 416 with `Content-Range: bytes */size`

const SINGLE_RANGE = /^bytes=[ \t]*(\d*)-(\d*)[ \t]*$/i; // the range unit is case-insensitive (§14.1)

export function parseRange(header: string | undefined, sizeBytes: number): RangeResult {
  if (header === undefined || sizeBytes === 0) return { kind: 'none' };
  const match = SINGLE_RANGE.exec(header);
  if (!match) return { kind: 'none' }; // includes multiple ranges ("," never matches)
  const [, firstText, lastText] = match;
  if (firstText === '') {
    if (lastText === '') return { kind: 'none' }; // "bytes=-" is invalid syntax
    const suffixLength = Number(lastText);
    // §14.1.3: a suffix-length of 0 cannot be satisfied; a longer one than the file means all of it
    if (suffixLength === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, sizeBytes - suffixLength), end: sizeBytes - 1 };
  }
  const start = Number(firstText);
  const last = lastText === '' ? Infinity : Number(lastText);
  if (last < start) return { kind: 'none' }; // §14.1.1: invalid, so the header is ignored
  if (start >= sizeBytes) return { kind: 'unsatisfiable' }; // §14.1.1: first-pos past the end
  return { kind: 'partial', start, end: Math.min(last, sizeBytes - 1) };
}
