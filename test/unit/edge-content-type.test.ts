import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentTypeFor } from '../../src/edge/content-type.ts';

describe('contentTypeFor', () => {
  it('labels text types as UTF-8', () => {
    assert.equal(contentTypeFor('/index.html'), 'text/html; charset=utf-8');
    assert.equal(contentTypeFor('/a/style.css'), 'text/css; charset=utf-8');
    assert.equal(contentTypeFor('app.mjs'), 'text/javascript; charset=utf-8');
    assert.equal(contentTypeFor('index.xml'), 'application/xml; charset=utf-8');
    assert.equal(contentTypeFor('logo.svg'), 'image/svg+xml; charset=utf-8');
    assert.equal(contentTypeFor('robots.txt'), 'text/plain; charset=utf-8');
  });

  it('knows the binary types a static site ships', () => {
    const expected: Record<string, string> = {
      'a.png': 'image/png', 'a.jpg': 'image/jpeg', 'a.jpeg': 'image/jpeg', 'a.gif': 'image/gif', 'a.webp': 'image/webp',
      'a.avif': 'image/avif', 'a.ico': 'image/vnd.microsoft.icon', 'a.woff': 'font/woff', 'a.woff2': 'font/woff2',
      'a.ttf': 'font/ttf', 'a.pdf': 'application/pdf', 'a.mp4': 'video/mp4', 'a.webm': 'video/webm',
      'a.wasm': 'application/wasm', 'a.json': 'application/json', 'a.js.map': 'application/json',
    };
    for (const [name, type] of Object.entries(expected)) assert.equal(contentTypeFor(name), type, name);
  });

  it('knows the photo, video, audio and document types a personal site hosts', () => {
    const expected: Record<string, string> = {
      'IMG_0001.HEIC': 'image/heic', 'a.heif': 'image/heif', 'a.tiff': 'image/tiff', 'a.mov': 'video/quicktime',
      'a.m4v': 'video/mp4', 'a.mkv': 'video/x-matroska', 'a.m4a': 'audio/mp4', 'a.flac': 'audio/flac', 'a.opus': 'audio/ogg',
      'a.weba': 'audio/webm', 'a.epub': 'application/epub+zip', 'a.ics': 'text/calendar; charset=utf-8',
      'feed.xsl': 'application/xslt+xml; charset=utf-8',
      'a.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'a.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'a.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
      'a.odt': 'application/vnd.oasis.opendocument.text', 'a.gpx': 'application/gpx+xml; charset=utf-8',
    };
    for (const [name, type] of Object.entries(expected)) assert.equal(contentTypeFor(name), type, name);
  });

  it('ignores extension case', () => assert.equal(contentTypeFor('PHOTO.JPG'), 'image/jpeg'));

  it('falls back to application/octet-stream for unknown or missing extensions', () => {
    assert.equal(contentTypeFor('/a/file.unknownext'), 'application/octet-stream');
    assert.equal(contentTypeFor('/a/README'), 'application/octet-stream');
    assert.equal(contentTypeFor('/a.d/README'), 'application/octet-stream');
  });
});
