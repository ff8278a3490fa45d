import { badRequest } from '../core/errors.ts';
import type { ClientInput, ClientPatch } from './clients.ts';
import { ACCESS_TOKEN_MINUTES, REFRESH_TOKEN_MINUTES } from './pocket-id-client-dto.ts';
import { validateUriList } from './validate-client-input.ts';

// The body of POST and PUT /api/oidc/clients: Pocket ID 2.x's OidcClientCreateDto (callbackURLs,
// pkceEnabled, isGroupRestricted …) or latchkey's own names (redirectUris, requirePkce,
// unrestricted …). Pocket ID fields for features latchkey lacks are accepted only with the value
// that describes what latchkey does, so a script never believes it set something that was dropped.

const uriList = { type: 'array', items: { type: 'string', maxLength: 2000 }, maxItems: 50 } as const;
const nullableUrl = { type: ['string', 'null'], maxLength: 2000 } as const;

export const clientBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string', maxLength: 128 },
    name: { type: 'string', minLength: 1, maxLength: 100 },
    isPublic: { type: 'boolean' },
    // latchkey's names
    redirectUris: uriList,
    postLogoutRedirectUris: uriList,
    requirePkce: { type: 'boolean' },
    allowedGroups: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 100 },
    unrestricted: { type: 'boolean' },
    backchannelLogoutUri: nullableUrl,
    // Pocket ID's names
    callbackURLs: uriList,
    logoutCallbackURLs: uriList,
    pkceEnabled: { type: 'boolean' },
    isGroupRestricted: { type: 'boolean' },
    description: { type: 'string', maxLength: 150 },
    requiresReauthentication: { type: 'boolean' },
    requiresPushedAuthorizationRequests: { type: 'boolean' },
    skipConsent: { type: 'boolean' },
    credentials: {
      type: 'object', additionalProperties: false,
      properties: { federatedIdentities: { type: 'array', maxItems: 20 }, secrets: { type: 'array' } },
    },
    launchURL: nullableUrl,
    logoUrl: nullableUrl,
    darkLogoUrl: nullableUrl,
    hasLogo: { type: 'boolean' },
    hasDarkLogo: { type: 'boolean' },
    accessTokenDurationMinutes: { type: 'integer', minimum: 0 },
    refreshTokenDurationMinutes: { type: 'integer', minimum: 0 },
    // What GET answers and a script may send back unchanged; read-only, as in Pocket ID.
    clientType: { type: 'string', maxLength: 50 },
    pkceSupported: { type: 'boolean' },
    allowedUserGroups: { type: 'array' },
    allowedUserGroupsCount: { type: 'integer' },
    createdAt: {},
    updatedAt: {},
  },
} as const;

export interface ClientBody {
  id?: string; name?: string; isPublic?: boolean;
  redirectUris?: string[]; postLogoutRedirectUris?: string[]; requirePkce?: boolean; allowedGroups?: string[]; unrestricted?: boolean; backchannelLogoutUri?: string | null;
  callbackURLs?: string[]; logoutCallbackURLs?: string[]; pkceEnabled?: boolean; isGroupRestricted?: boolean;
  description?: string; requiresReauthentication?: boolean; requiresPushedAuthorizationRequests?: boolean; skipConsent?: boolean;
  credentials?: { federatedIdentities?: unknown[] }; launchURL?: string | null; logoUrl?: string | null; darkLogoUrl?: string | null;
  accessTokenDurationMinutes?: number; refreshTokenDurationMinutes?: number;
}

const SAME_THING: [keyof ClientBody, keyof ClientBody][] = [
  ['callbackURLs', 'redirectUris'], ['logoutCallbackURLs', 'postLogoutRedirectUris'], ['pkceEnabled', 'requirePkce'], ['isGroupRestricted', 'unrestricted'],
];

/** Every field whose value latchkey cannot honour, with why; all at once. */
function unsupported(body: ClientBody): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const [pocketId, latchkey] of SAME_THING)
    if (body[pocketId] !== undefined && body[latchkey] !== undefined) problems[pocketId] = `Send either "${pocketId}" or "${latchkey}", not both.`;
  if (body.description) problems.description = 'latchkey stores no client description; leave it empty.';
  if (body.requiresReauthentication) problems.requiresReauthentication = 'latchkey cannot require a fresh sign-in for one client.';
  if (body.requiresPushedAuthorizationRequests) problems.requiresPushedAuthorizationRequests = 'latchkey cannot require pushed authorization requests for one client.';
  if (body.credentials?.federatedIdentities?.length) problems.credentials = 'latchkey has no federated client credentials; clients use their secret (or PKCE when public).';
  if (body.launchURL) problems.launchURL = 'latchkey has no app launcher, so no launch URL.';
  for (const field of ['logoUrl', 'darkLogoUrl'] as const) if (body[field]) problems[field] = 'latchkey shows no client logos.';
  for (const [field, minutes] of [['accessTokenDurationMinutes', ACCESS_TOKEN_MINUTES], ['refreshTokenDurationMinutes', REFRESH_TOKEN_MINUTES]] as const)
    if (body[field] && body[field] !== minutes) problems[field] = `latchkey gives every client the same lifetime, ${minutes} minutes; leave it out, 0 or ${minutes}.`;
  return problems;
}

/** A PUT body in latchkey's terms: only the fields sent change. */
export function readClientPatch(body: ClientBody): ClientPatch {
  const problems = unsupported(body);
  if (Object.keys(problems).length) throw badRequest('unsupported_field', Object.values(problems).join(' '), { fields: problems });
  // Checked under the name the caller used, so an error points at their field.
  if (body.callbackURLs) validateUriList(body.callbackURLs, 'callbackURLs', { atLeastOne: true });
  if (body.logoutCallbackURLs) validateUriList(body.logoutCallbackURLs, 'logoutCallbackURLs', { atLeastOne: false });
  const patch: ClientPatch = {
    name: body.name, isPublic: body.isPublic, backchannelLogoutUri: body.backchannelLogoutUri, allowedGroups: body.allowedGroups,
    redirectUris: body.callbackURLs ?? body.redirectUris,
    postLogoutRedirectUris: body.logoutCallbackURLs ?? body.postLogoutRedirectUris,
    requirePkce: body.pkceEnabled ?? body.requirePkce,
    unrestricted: body.isGroupRestricted === undefined ? body.unrestricted : !body.isGroupRestricted,
  };
  // Lifting the restriction forgets the groups, as Pocket ID and the console's "Everyone" do.
  if (body.isGroupRestricted === false && body.allowedGroups === undefined) patch.allowedGroups = [];
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as ClientPatch;
}

/**
 * A POST body in latchkey's terms. Left out, `isGroupRestricted` keeps latchkey's default: the
 * client admits nobody until it is given groups or made unrestricted (Pocket ID admits everyone).
 */
export function readNewClient(body: ClientBody): ClientInput {
  const patch = readClientPatch(body);
  if (!patch.redirectUris?.length) {
    const field = body.redirectUris ? 'redirectUris' : 'callbackURLs';
    throw badRequest('invalid_redirect_uri', `${field}: at least one URI is needed (latchkey does not learn it from the first sign-in, as Pocket ID can).`, { fields: { [field]: 'missing' } });
  }
  return { ...patch, id: body.id, name: patch.name ?? '', redirectUris: patch.redirectUris };
}
