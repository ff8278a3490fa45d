// Content-Type by file extension, for the static edge. Text types carry `charset=utf-8` because
// Hugo writes UTF-8 and browsers otherwise guess (WHATWG Encoding §4.2 falls back to windows-1252).
// Unknown extensions are application/octet-stream (RFC 9110 §8.3: a sender that does not know the
// type may omit it, but with `X-Content-Type-Options: nosniff` an explicit opaque type is safest).

const TEXT = '; charset=utf-8';

// Grouped by what a personal site hosts; nginx's mime.types is the reference, with the registered
// type where nginx still has an x- one (m4a, m4v, bmp).
const TYPES_BY_EXTENSION: Readonly<Record<string, string>> = {
  // pages, feeds, scripts and data
  html: 'text/html' + TEXT,
  htm: 'text/html' + TEXT,
  xhtml: 'application/xhtml+xml' + TEXT,
  css: 'text/css' + TEXT,
  js: 'text/javascript' + TEXT, // RFC 9239 §6: text/javascript is the one to use
  mjs: 'text/javascript' + TEXT,
  json: 'application/json', // RFC 8259 §11: no charset parameter; JSON is UTF-8
  jsonld: 'application/ld+json',
  webmanifest: 'application/manifest+json',
  map: 'application/json',
  xml: 'application/xml' + TEXT,
  xsl: 'application/xslt+xml' + TEXT, // the stylesheet that makes an RSS feed readable in a browser
  rss: 'application/rss+xml' + TEXT,
  atom: 'application/atom+xml' + TEXT,
  txt: 'text/plain' + TEXT,
  md: 'text/markdown' + TEXT,
  csv: 'text/csv' + TEXT,
  ics: 'text/calendar' + TEXT,
  vcf: 'text/vcard' + TEXT,
  vtt: 'text/vtt' + TEXT,
  wasm: 'application/wasm',
  // images
  svg: 'image/svg+xml' + TEXT,
  png: 'image/png',
  apng: 'image/apng',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  heic: 'image/heic', // what iPhones take photos in
  heif: 'image/heif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  ico: 'image/vnd.microsoft.icon',
  bmp: 'image/bmp',
  // fonts
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  eot: 'application/vnd.ms-fontobject',
  // audio
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg', // RFC 7845 §9: Opus files are Ogg streams
  weba: 'audio/webm',
  wav: 'audio/wav',
  // video
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  ogv: 'video/ogg',
  mpeg: 'video/mpeg',
  mpg: 'video/mpeg',
  avi: 'video/x-msvideo',
  '3gp': 'video/3gpp',
  m3u8: 'application/vnd.apple.mpegurl', // HLS: the playlist and its segments
  ts: 'video/mp2t',
  // documents
  pdf: 'application/pdf',
  epub: 'application/epub+zip',
  rtf: 'application/rtf',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
  // maps and tracks
  gpx: 'application/gpx+xml' + TEXT,
  kml: 'application/vnd.google-earth.kml+xml' + TEXT,
  kmz: 'application/vnd.google-earth.kmz',
  // archives
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  '7z': 'application/x-7z-compressed',
};

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The Content-Type for a file name or path, chosen by its last extension (case-insensitive). */
export function contentTypeFor(fileName: string): string {
  const slash = fileName.lastIndexOf('/');
  const dot = fileName.lastIndexOf('.');
  if (dot <= slash + 1) return DEFAULT_CONTENT_TYPE; // no extension, or a name such as ".htaccess"
  return TYPES_BY_EXTENSION[fileName.slice(dot + 1).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}
