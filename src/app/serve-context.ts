// What `latchkey serve` tells the identity provider about the site it runs beside, so that the
// provider's pages can speak of that site. Absent under `latchkey id`, where there is no one site
// to speak of.
import type { ServeConfig } from '../config/serve-config.ts';

export interface ServeContext {
  /** Where a signed-in user goes next: the first protected section open to every signed-in user, else the home page. */
  siteUrl: string;
}

export function serveContextFor(config: Pick<ServeConfig, 'siteOrigin' | 'protectedPrefixes'>): ServeContext {
  const openToAll = config.protectedPrefixes.find((rule) => rule.allowedGroups.length === 0);
  return Object.freeze({
    siteUrl: new URL(openToAll?.prefix ?? '/', config.siteOrigin).href,
  });
}
