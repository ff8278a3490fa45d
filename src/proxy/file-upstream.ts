// --upstream=file:///folder#/path: the folder served at /path by the static edge (src/edge), as
// oauth2-proxy serves it with http.StripPrefix(path, http.FileServer(folder)): /path/a.html is
// folder/a.html. Every file is treated as protected by the edge (Cache-Control: private,
// no-store; symlinks cannot escape), since only signed-in users (or --skip-auth-route requests)
// get here at all.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createStaticSite } from '../edge/static-site.ts';

export interface FileUpstream {
  /** Answers `req`, whose path starts with the mount path, from the folder. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
  close(): void;
}

const EVERYTHING = [{ prefix: '/', allowedGroups: [] }];

export function createFileUpstream(directory: string, mountPath: string, onError: (error: unknown, req: IncomingMessage) => void): FileUpstream {
  const site = createStaticSite({ root: directory, protectedPrefixes: EVERYTHING, locationPrefix: mountPath.replace(/\/$/, ''), onError });
  return {
    serve(req, res) {
      const rest = (req.url ?? '/').slice(mountPath.length);
      return site.serve(req, res, site.resolve(rest.startsWith('/') ? rest : `/${rest}`));
    },
    close: () => site.close(),
  };
}
