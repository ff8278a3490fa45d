// Serves the passkey browser script and @simplewebauthn/browser's ESM build, same-origin, so the
// pages need no CDN and a strict CSP (script-src 'self') holds.
//
// The ESM build is a tree of small modules (esm/index.js importing ./methods/…, ./helpers/…), not
// one file. It is served whole under a versioned path, which may be cached forever, and
// /assets/simplewebauthn-browser.js is a one-line module re-exporting it, cached briefly so an
// upgrade reaches browsers within the hour. Every file is read once at start into a map: request
// paths are looked up there, never joined onto the file system.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

interface Asset { body: string; etag: string; cacheControl: string }

const JAVASCRIPT = 'text/javascript; charset=utf-8';
const IMMUTABLE = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=3600';

const asset = (body: string, cacheControl: string): Asset =>
  ({ body, cacheControl, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });

function listJavascript(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listJavascript(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
}

/** The package's ESM entry (its "import" export), and the version from its package.json. */
function locateBrowserLibrary(): { esmDir: string; version: string } {
  const entry = fileURLToPath(import.meta.resolve('@simplewebauthn/browser'));
  const esmDir = dirname(entry);
  const { version } = JSON.parse(readFileSync(join(esmDir, '..', 'package.json'), 'utf8')) as { version: string };
  return { esmDir, version };
}

export function loadWebauthnAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const { esmDir, version } = locateBrowserLibrary();
  const base = `/assets/simplewebauthn-browser@${version}`;
  for (const file of listJavascript(esmDir)) {
    const url = `${base}/${relative(esmDir, file).split(sep).join('/')}`;
    assets.set(url, asset(readFileSync(file, 'utf8'), IMMUTABLE));
  }
  assets.set('/assets/simplewebauthn-browser.js', asset(`export * from './simplewebauthn-browser@${version}/index.js';\n`, SHORT));
  const script = readFileSync(fileURLToPath(new URL('../web/assets/passkey.js', import.meta.url)), 'utf8');
  assets.set('/assets/passkey.js', asset(script, SHORT));
  return assets;
}

export async function webauthnAssetRoutes(app: FastifyInstance): Promise<void> {
  const assets = loadWebauthnAssets();
  const send = (request: FastifyRequest, reply: FastifyReply, item: Asset) => {
    reply.header('cache-control', item.cacheControl).header('etag', item.etag).header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === item.etag) return reply.code(304).send();
    return reply.type(JAVASCRIPT).send(item.body);
  };
  for (const [url, item] of assets) {
    app.get(url, (request, reply) => send(request, reply, item));
  }
}
