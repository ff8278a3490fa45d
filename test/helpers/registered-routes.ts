import type { FastifyInstance } from 'fastify';

export interface RegisteredRoute {
  url: string;
  methods: string[];
}

/**
 * Every route a fastify app has registered, read back from the app itself (printRoutes' tree with
 * commonPrefix off, where each node's text is appended to its parent's path), so a test that
 * walks them cannot forget one that someone adds later.
 */
export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  const parents: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (.+?) \(([A-Z, ]+)\)$/.exec(line.replace(/\u00a0/g, ' '));
    if (!match) continue;
    const depth = match[1].length / 4;
    const url = (depth === 0 ? '' : parents[depth - 1]) + match[2];
    parents[depth] = url;
    parents.length = depth + 1;
    routes.push({ url, methods: match[3].split(',').map((m) => m.trim()) });
  }
  if (routes.length < 10) throw new Error(`could not read the routes from printRoutes():\n${app.printRoutes({ commonPrefix: false })}`);
  return routes;
}
