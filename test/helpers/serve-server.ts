import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { LogDestination } from '../../src/app/logger.ts';
import { createServeApp, type ServeApp } from '../../src/app/serve-app.ts';
import { loadServeConfig } from '../../src/config/serve-config.ts';
import { freePort } from './free-port.ts';

export interface ServeServer extends ServeApp {
  siteOrigin: string;
  idOrigin: string;
  siteDir: string;
  dataDir: string;
}

/** A small site with a public page, a private section and a family-only section inside it. */
export const SERVE_SITE_FILES: Record<string, string> = {
  'index.html': '<h1>Public home</h1>',
  '404.html': '<h1>Not here</h1>',
  'private/index.html': '<h1>PRIVATE-INDEX-SECRET</h1>',
  'private/notes.txt': 'PRIVATE-NOTES-SECRET',
  'private/family/index.html': '<h1>FAMILY-ONLY-SECRET</h1>',
};

export function writeSite(files: Record<string, string> = SERVE_SITE_FILES): string {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-site-'));
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), body);
  }
  return dir;
}

/**
 * A real `latchkey serve` in this process: site on http://localhost:A, provider on
 * http://localhost:B, a temp site folder (or `siteDir`, left as it is) and a temp SQLite database.
 * Its log is off unless `logDestination` is given.
 */
export async function startServe(options: { protect?: string[]; env?: Record<string, string>; siteDir?: string; logDestination?: LogDestination } = {}): Promise<ServeServer> {
  const [sitePort, idPort] = [await freePort(), await freePort()];
  const siteDir = options.siteDir ?? writeSite();
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-serve-data-'));
  const siteOrigin = `http://localhost:${sitePort}`;
  const idOrigin = `http://localhost:${idPort}`;
  const argv = ['--site', siteDir, '--url', siteOrigin, '--id-url', idOrigin, '--listen', `127.0.0.1:${sitePort}`, '--id-listen', `127.0.0.1:${idPort}`, '--data', dataDir,
    ...(options.protect ?? ['/private/', '/private/family/=family']).flatMap((p) => ['--protect', p])];
  const config = loadServeConfig({ argv, env: { LOG_LEVEL: 'warn', ...options.env } });
  const app = await createServeApp(config, { logger: options.logDestination !== undefined, logDestination: options.logDestination });
  return {
    ...app, siteOrigin, idOrigin, siteDir, dataDir,
    async close() {
      await app.close();
      if (!options.siteDir) rmSync(siteDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
