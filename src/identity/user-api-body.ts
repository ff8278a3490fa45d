import { badRequest } from '../core/errors.ts';
import { displayName, type User } from './users.ts';

// The body of POST and PUT /api/users: Pocket ID 2.x's UserCreateDto, plus latchkey's own `groups`
// (names). Pocket ID fields for features latchkey lacks are accepted only with the value that
// means "nothing", so a script never believes it set something that was dropped.

export const userBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    username: { type: 'string', maxLength: 50 },
    email: { type: ['string', 'null'], maxLength: 254 },
    firstName: { type: 'string', maxLength: 100 },
    lastName: { type: ['string', 'null'], maxLength: 100 },
    isAdmin: { type: 'boolean' },
    disabled: { type: 'boolean' },
    emailVerified: { type: 'boolean' },
    groups: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 100 },
    // Pocket ID's names
    userGroupIds: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 100 },
    displayName: { type: 'string', maxLength: 100 },
    locale: { type: ['string', 'null'], maxLength: 20 },
    id: { type: 'string', maxLength: 64 },
    // What GET answers and a script may send back unchanged; read-only, as in Pocket ID.
    customClaims: { type: 'array', maxItems: 100 },
    userGroups: { type: 'array', maxItems: 100 },
    ldapId: { type: 'null' },
    createdAt: {},
    updatedAt: {},
  },
} as const;

export interface UserBody {
  username?: string; email?: string | null; firstName?: string; lastName?: string | null;
  isAdmin?: boolean; disabled?: boolean; emailVerified?: boolean; groups?: string[];
  userGroupIds?: string[]; displayName?: string; locale?: string | null; id?: string;
}

export interface UserFields {
  username?: string; email?: string | null; firstName?: string; lastName?: string;
  isAdmin?: boolean; disabled?: boolean; emailVerified?: boolean;
}

/**
 * Splits a body into the user's fields and their groups, refusing every field latchkey cannot honour
 * at once (400, `fields` naming each). `current` is the user a PUT changes, to check `displayName`
 * against the names they will have.
 */
export function readUserBody(body: UserBody, options: { creating: boolean; current?: User }): {
  fields: UserFields; groupNames?: string[]; groupIds?: string[];
} {
  const problems: Record<string, string> = {};
  if (options.creating && body.id !== undefined)
    problems.id = 'latchkey chooses user IDs itself; leave "id" out.';
  if (body.locale !== undefined && body.locale !== null)
    problems.locale = 'latchkey has no per-user language; leave "locale" out or null.';
  if (body.groups !== undefined && body.userGroupIds !== undefined)
    problems.userGroupIds = 'Send either "groups" (names) or "userGroupIds", not both.';
  const { username, email, firstName, isAdmin, disabled, emailVerified } = body;
  const fields: UserFields = Object.fromEntries(Object.entries({
    username, email, firstName, lastName: body.lastName === null ? '' : body.lastName, isAdmin, disabled, emailVerified,
  }).filter(([, value]) => value !== undefined));
  if (body.displayName) {
    const names = { username: fields.username ?? options.current?.username ?? '', firstName: fields.firstName ?? options.current?.firstName ?? '', lastName: fields.lastName ?? options.current?.lastName ?? '' };
    if (body.displayName.trim() !== displayName({ firstName: names.firstName.trim(), lastName: names.lastName.trim(), username: names.username }))
      problems.displayName = `latchkey shows a user's first and last name (or username) and stores no other display name; leave "displayName" out, or send "${displayName(names)}".`;
  }
  if (Object.keys(problems).length) throw badRequest('unsupported_field', Object.values(problems).join(' '), { fields: problems });
  // As in Pocket ID, PUT /api/users/:id leaves memberships alone whatever `userGroupIds` says:
  // PUT /api/users/:id/user-groups changes them.
  const groupIds = options.creating ? body.userGroupIds : undefined;
  return { fields, ...(body.groups ? { groupNames: body.groups } : {}), ...(groupIds ? { groupIds } : {}) };
}
