// Content-Type by file extension, for the static edge. Text types carry `charset=utf-8` because
// Hugo writes UTF-8 and browsers otherwise guess (WHATWG Encoding §4.2 falls back to windows-1252).
// Unknown extensions are application/octet-stream (RFC 9110 §8.3: a sender that does not know the
// type may omit it, but with `X-Content-Type-Options: nosniff` an explicit opaque type is safest).

const TEXT = '; charset=utf-8';

const TYPES_BY_EXTENSION: Readonly<Record<string, string>> = {
  html: 'text/html' + TEXT,
  htm: 'text/html' + TEXT,
  css: 'text/css' + TEXT,
  js: 'text/javascript' + TEXT, // RFC 9239 §6: text/javascript is the one to use
  mjs: 'text/javascript' + TEXT,
  json: 'application/json', // RFC 8259 §11: no charset parameter; JSON is UTF-8
  jsonld: 'application/ld+json',
  webmanifest: 'application/manifest+json',
  map: 'application/json',
  xml: 'application/xml' + TEXT,
  rss: 'application/rss+xml' + TEXT,
  atom: 'application/atom+xml' + TEXT,
  svg: 'image/svg+xml' + TEXT,
  txt: 'text/plain' + TEXT,
  md: 'text/markdown' + TEXT,
  csv: 'text/csv' + TEXT,
  ics: 'text/calendar' + TEXT,
  vtt: 'text/vtt' + TEXT,
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/vnd.microsoft.icon',
  bmp: 'image/bmp',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  pdf: 'application/pdf',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  webm: 'video/webm',
  wasm: 'application/wasm',
  zip: 'application/zip',
  gz: 'application/gzip',
};

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The Content-Type for a file name or path, chosen by its last extension (case-insensitive). */
export function contentTypeFor(fileName: string): string {
  const slash = fileName.lastIndexOf('/');
  const dot = fileName.lastIndexOf('.');
  if (dot <= slash + 1) return DEFAULT_CONTENT_TYPE; // no extension, or a name such as ".htaccess"
  return TYPES_BY_EXTENSION[fileName.slice(dot + 1).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}
