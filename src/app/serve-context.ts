// What `latchkey serve` tells the identity provider about the site it runs beside, so that the
// provider's pages speak of that site instead of the split layout's apps and proxies. Absent under
// `latchkey id`, where there is no one site to speak of.
import type { ServeConfig } from '../config/serve-config.ts';

export interface ServeContext {
  /** Where a signed-in user goes next: the first protected section open to every signed-in user, else the home page. */
  siteUrl: string;
  /** The groups serve's --protect rules name, in rule order; a group by another name opens nothing on the site. */
  protectGroups: readonly string[];
  /** serve's --protect rules as given: a section is open to members of any of its groups (every signed-in user when none). */
  protectRules: readonly ProtectRule[];
  /** How often the site's proxy checks a session with the provider (its --cookie-refresh): a group change reaches a signed-in user within it. */
  sessionRecheckMinutes: number;
}

export interface ProtectRule {
  prefix: string;
  groups: readonly string[];
}

export function serveContextFor(config: Pick<ServeConfig, 'siteOrigin' | 'protectedPrefixes'>, sessionRecheckMinutes: number): ServeContext {
  const openToAll = config.protectedPrefixes.find((rule) => rule.allowedGroups.length === 0);
  return Object.freeze({
    siteUrl: new URL(openToAll?.prefix ?? '/', config.siteOrigin).href,
    protectGroups: Object.freeze([...new Set(config.protectedPrefixes.flatMap((rule) => rule.allowedGroups))]),
    protectRules: Object.freeze(config.protectedPrefixes.map((rule) => Object.freeze({ prefix: rule.prefix, groups: Object.freeze([...rule.allowedGroups]) }))),
    sessionRecheckMinutes,
  });
}
