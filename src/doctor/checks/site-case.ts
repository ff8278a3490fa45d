import { type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Check, combine, fail, ok, skip, warn } from '../check.ts';
import { NO_SITE } from './site-leaks.ts';

// nginx picks a location by comparing the request's path byte for byte, so `location ^~ /private/`
// does not cover /PRIVATE/secret.html. On a file system that ignores case (a Windows or SMB share,
// an ext4 or tmpfs casefold folder, macOS) that path still opens /private/secret.html, and nginx
// serves it from `location /` without asking the proxy. `latchkey serve` compares prefixes without
// case (src/edge/protection.ts); nginx does not. The check looks up each protected
// folder's name in another case, in the built site, and reads nothing else.

export type StatFile = (path: string) => Stats | undefined;
const statOrNothing: StatFile = (path) => statSync(path, { throwIfNoEntry: false });

const otherCase = (name: string) => [...name].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');

/**
 * The first folder of `prefix` (e.g. /private/family/) whose name `siteDir`'s file system also
 * opens in another case, as "/private → /PRIVATE"; null when none does; undefined when no folder
 * of the prefix exists with a letter in its name to try.
 */
export function caseFoldedFolder(siteDir: string, prefix: string, stat: StatFile = statOrNothing): string | null | undefined {
  let dir = siteDir;
  let path = '';
  let tried = false;
  for (const name of prefix.split('/').filter(Boolean)) {
    const actual = stat(join(dir, name));
    if (!actual) break;
    const swapped = otherCase(name);
    if (swapped !== name) {
      tried = true;
      const other = stat(join(dir, swapped));
      if (other && other.ino === actual.ino && other.dev === actual.dev) return `${path}/${name} → ${path}/${swapped}`;
    }
    dir = join(dir, name);
    path += `/${name}`;
  }
  return tried ? null : undefined;
}

export const siteCase: Check = {
  id: 'site-case',
  title: 'The built site lies on a file system that tells /private/ from /PRIVATE/',
  run(ctx) {
    const siteDir = ctx.inputs.siteDir;
    if (!siteDir) return skip(NO_SITE);
    const results = ctx.privatePaths.map((prefix) => {
      const folded = caseFoldedFolder(siteDir, prefix);
      if (folded === undefined) return skip(`no folder of ${prefix} in ${siteDir} to try`);
      if (folded === null) return ok(`${prefix} in another case names no file in ${siteDir}`);
      const detail = `${siteDir} is on a file system that ignores case (${folded} opens the same folder): nginx matches ${prefix} case by case, so ${otherCase(prefix)}… serves the private files without sign-in`;
      const fix = `Keep the built site on a case-sensitive file system (ext4, xfs or btrfs without casefold; not a Windows or SMB share), or serve it with latchkey serve, whose protected prefixes ignore case.`;
      // Only nginx's prefix matching is fooled; with latchkey serve in front this is a remark.
      return ctx.nginx ? fail(detail, fix) : warn(detail, fix);
    });
    if (results.every((r) => r.status === 'skip')) return results[0];
    return combine(results.filter((r) => r.status !== 'skip'), `every protected folder is looked up case by case in ${siteDir} (${ctx.privatePaths.join(', ')} in another case names no file)`);
  },
};
