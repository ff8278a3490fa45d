// A real Hugo build of the demo site (demo/: public posts, a /private/ section with a family
// sub-section), made with Debian's hugo into a folder of the caller's. A missing hugo fails loudly.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from './deploy-tools.ts';

const DEMO = new URL('../../demo/', import.meta.url).pathname;

/** Builds demo/ for `baseUrl` into `dir`/public and returns that folder (the web root). */
export function buildHugoSite(dir: string, baseUrl: string): string {
  const root = join(dir, 'public');
  // --noBuildLock and the resource/cache folders keep the build from writing into demo/.
  execFileSync(requireTool('hugo'), ['--source', DEMO, '--destination', root, '--baseURL', baseUrl, '--noBuildLock', '--quiet'], {
    env: { ...process.env, HUGO_RESOURCEDIR: join(dir, 'resources'), HUGO_CACHEDIR: join(dir, 'cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (!existsSync(join(root, 'private', 'index.html'))) throw new Error(`hugo built no private section into ${root}`);
  return root;
}
