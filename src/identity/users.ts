import { sql, Transaction, type SelectQueryBuilder } from 'kysely';
import type { Clock } from '../core/clock.ts';
import { AppError, badRequest, conflict, notFound } from '../core/errors.ts';
import { randomId } from '../core/random.ts';
import { lockWrites, type Db, type DbOrTransaction } from '../storage/database.ts';
import type { Schema, UsersTable } from '../storage/schema.ts';
import { withdrawUnusedLinks } from './one-time-links.ts';
import { refusingDuplicates } from './unique-violation.ts';

export interface User {
  id: string;
  username: string;
  email: string | null;
  firstName: string;
  lastName: string;
  isAdmin: boolean;
  disabled: boolean;
  emailVerified: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface NewUser {
  username: string;
  email?: string | null;
  firstName?: string;
  lastName?: string;
  isAdmin?: boolean;
  emailVerified?: boolean;
}

export type UserChanges = Partial<Omit<NewUser, never> & { disabled: boolean }>;

export const displayName = (user: Pick<User, 'firstName' | 'lastName' | 'username'>): string =>
  [user.firstName, user.lastName].filter(Boolean).join(' ') || user.username;

export function toUser(row: UsersTable): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    isAdmin: row.is_admin === 1,
    disabled: row.disabled === 1,
    emailVerified: row.email_verified === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

// Usernames follow Pocket ID's rule: letters, digits and . _ - @, so they work as
// preferred_username in every client.
const USERNAME = /^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,49}$/;
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

/** Checks every field at once; returns the problems keyed by field, for forms and JSON alike. */
export function validateUserFields(input: UserChanges): Record<string, string> {
  const problems: Record<string, string> = {};
  if (input.username !== undefined && !USERNAME.test(input.username))
    problems.username = 'Use 1–50 letters, digits, dots, dashes, underscores or @, starting with a letter or digit.';
  if (input.email !== undefined && input.email !== null && input.email !== '' && (!EMAIL.test(input.email) || input.email.length > 254))
    problems.email = 'This does not look like an email address.';
  for (const field of ['firstName', 'lastName'] as const)
    if (input[field] !== undefined && (input[field] as string).length > 100) problems[field] = 'Keep this under 100 characters.';
  return problems;
}

function assertValid(input: UserChanges) {
  const problems = validateUserFields(input);
  if (Object.keys(problems).length)
    throw badRequest('invalid_user', Object.values(problems).join(' '), { fields: problems });
}

const normaliseEmail = (email: string | null | undefined) => (email ? email.trim().toLowerCase() : null);

const usernameTaken = (username: string) => conflict('username_taken', `The username "${username}" is already taken.`);
const emailTaken = (email: string) => conflict('email_taken', `Another user already has the email ${email}.`);

/**
 * Writes a user's username and email; a refusal by a unique index is answered as assertUnique
 * answers (409), not as a database error. assertUnique's lock leaves that refusal to writers that
 * do not take it: an instance of an older latchkey on the same database during a rolling upgrade.
 */
const writingNames = <T>(fields: UserChanges, write: () => Promise<T>): Promise<T> =>
  refusingDuplicates(write, 'users', { username: () => usernameTaken(fields.username ?? ''), email: () => emailTaken(normaliseEmail(fields.email) ?? '') });

/**
 * A username, and an email, each names one person: the CLI, recovery and the audit filter find
 * people by either (findByLogin). So a username may not be another user's email, nor an email
 * another user's username; otherwise a user who typed an admin's username as their own email
 * could be the account `latchkey user update <that name> --admin` finds.
 *
 * The unique indexes cannot say this (username's is case-sensitive, and 0005 could not make
 * lower(username) unique on data that may break it, nor can an index span the two columns), so
 * the check is what keeps it, and two requests must not both pass it before either writes: it
 * first takes the user-names lock, held until `trx` ends, so the caller writes in `trx`.
 */
async function assertUnique(trx: Transaction<Schema>, input: UserChanges, exceptId?: string) {
  const email = normaliseEmail(input.email);
  if (input.username === undefined && !email) return;
  await lockWrites(trx, 'userNames');
  const othersNamed = async (text: string) => (await trx.selectFrom('users').select(['id', 'username', 'email'])
    .where((eb) => eb.or([eb(eb.fn('lower', ['username']), '=', text), eb('email', '=', text)])).execute())
    .filter((row) => row.id !== exceptId);
  if (input.username !== undefined) {
    const other = (await othersNamed(input.username.toLowerCase()))[0];
    if (other && other.username.toLowerCase() === input.username.toLowerCase()) throw usernameTaken(input.username);
    if (other) throw conflict('username_taken', `The username "${input.username}" is another user's email address.`);
  }
  if (email) {
    const other = (await othersNamed(email))[0];
    if (other && other.email === email) throw emailTaken(email);
    if (other) throw conflict('email_taken', `${email} is another user's username.`);
  }
}

/** A column a user list can be sorted by, as stored; `display_name` is what displayName() shows. */
export interface UserSort {
  column: 'username' | 'email' | 'first_name' | 'last_name' | 'display_name' | 'is_admin' | 'disabled' | 'email_verified' | 'created_at';
  direction: 'asc' | 'desc';
}

// displayName() in SQL (names are stored trimmed): first and last name, or else the username; in
// lower case, so "mia" (a username) sorts between "Bob Young" and "Zoe Adams" on SQLite as well.
const DISPLAY_NAME = sql<string>`lower(coalesce(nullif(trim(first_name || ' ' || last_name), ''), username))`;

/** Narrows a users query to a search term found in the username, email or either name. */
function matching<Q extends SelectQueryBuilder<Schema, 'users', object>>(query: Q, search: string | undefined): Q {
  if (!search) return query;
  const like = `%${search.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
  // An explicit ESCAPE: SQLite has no default escape character for LIKE, PostgreSQL does.
  const matches = (column: string) => sql<boolean>`lower(${sql.ref(column)}) like ${like} escape '\\'`;
  return query.where((eb) => eb.or([matches('username'), matches('email'), matches('first_name'), matches('last_name')])) as Q;
}

export function createUserStore(db: Db, clock: Clock) {
  const findRow = (conn: DbOrTransaction, id: string) => conn.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return {
    async get(id: string): Promise<User | null> {
      const row = await findRow(db, id);
      return row ? toUser(row) : null;
    },
    async require(id: string): Promise<User> {
      const row = await findRow(db, id);
      if (!row) throw notFound('This user');
      return toUser(row);
    },
    /**
     * Finds by username (case-insensitive) or email, as the CLI and admin search accept either. The
     * username's owner first: data from before assertUnique checked across the two may hold a user
     * whose email is another user's username.
     */
    async findByLogin(login: string): Promise<User | null> {
      const text = login.trim().toLowerCase();
      const rows = await db.selectFrom('users').selectAll()
        .where((eb) => eb.or([eb(eb.fn('lower', ['username']), '=', text), eb('email', '=', text)]))
        .limit(2).execute();
      const row = rows.find((candidate) => candidate.username.toLowerCase() === text) ?? rows[0];
      return row ? toUser(row) : null;
    },
    async list(options: { search?: string; limit?: number; offset?: number; sort?: UserSort } = {}): Promise<User[]> {
      let query = matching(db.selectFrom('users').selectAll(), options.search);
      // The id last, so equal values (two admins, two empty names) page in a stable order.
      const sort = options.sort;
      if (sort) query = query.orderBy(sort.column === 'display_name' ? DISPLAY_NAME : sort.column, sort.direction).orderBy('id');
      else query = query.orderBy('username');
      const rows = await query.limit(options.limit ?? 100).offset(options.offset ?? 0).execute();
      return rows.map(toUser);
    },
    /** How many users there are, or how many `list({ search })` would find. */
    async count(search?: string): Promise<number> {
      const row = await matching(db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')), search).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async countActiveAdmins(): Promise<number> {
      const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('is_admin', '=', 1).where('disabled', '=', 0).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    /** Creates a user; `conn` lets setup create the first admin inside its own transaction. */
    async create(input: NewUser, conn: DbOrTransaction = db): Promise<User> {
      const fields = { ...input, email: normaliseEmail(input.email) };
      assertValid(fields);
      const now = clock.nowMs();
      const row: UsersTable = {
        id: randomId(),
        username: fields.username,
        email: fields.email,
        first_name: fields.firstName?.trim() ?? '',
        last_name: fields.lastName?.trim() ?? '',
        is_admin: fields.isAdmin ? 1 : 0,
        disabled: 0,
        // An address typed in by an admin (or by the first admin at setup) is vouched for, as in
        // Pocket ID; oauth2-proxy, and the guide's flags, refuse unverified emails.
        email_verified: (fields.emailVerified ?? Boolean(fields.email)) ? 1 : 0,
        created_at: now,
        updated_at: now,
      };
      await inTransaction(conn, async (trx) => {
        await assertUnique(trx, fields);
        await writingNames(fields, () => trx.insertInto('users').values(row).execute());
      });
      return toUser(row);
    },
    /** Updates a user; `conn` lets the admin API set their groups in the same transaction. */
    async update(id: string, changes: UserChanges, conn: DbOrTransaction = db): Promise<User> {
      const fields = { ...changes, ...(changes.email !== undefined ? { email: normaliseEmail(changes.email) } : {}) };
      assertValid(fields);
      return inTransaction(conn, async (trx) => {
        const current = await findRow(trx, id);
        if (!current) throw notFound('This user');
        await assertUnique(trx, fields, id);
        // Never leave the system without an active admin: nobody could manage it then.
        const losesAdmin = (fields.isAdmin === false || fields.disabled === true) && current.is_admin === 1 && current.disabled === 0;
        if (losesAdmin && (await countOtherActiveAdmins(trx, id)) === 0)
          throw new AppError('last_admin', 409, 'This is the only active admin. Make someone else an admin first.');
        await writingNames(fields, () => trx.updateTable('users').set({
          ...(fields.username !== undefined ? { username: fields.username } : {}),
          ...(fields.email !== undefined ? { email: fields.email } : {}),
          ...(fields.firstName !== undefined ? { first_name: fields.firstName.trim() } : {}),
          ...(fields.lastName !== undefined ? { last_name: fields.lastName.trim() } : {}),
          ...(fields.isAdmin !== undefined ? { is_admin: fields.isAdmin ? 1 : 0 } : {}),
          ...(fields.disabled !== undefined ? { disabled: fields.disabled ? 1 : 0 } : {}),
          ...(fields.emailVerified !== undefined ? { email_verified: fields.emailVerified ? 1 : 0 } : {}),
          updated_at: clock.nowMs(),
        }).where('id', '=', id).execute());
        // A disabled user's unused sign-in links are withdrawn, not just refused while disabled:
        // one sent before (to them, or to whoever took over their account) would otherwise work
        // again the day they are enabled. Whoever enables them makes a new one.
        if (fields.disabled === true) await withdrawUnusedLinks(trx, 'signin', id);
        // Removed by another request while this one waited for the names lock: nothing was written.
        const updated = await findRow(trx, id);
        if (!updated) throw notFound('This user');
        return toUser(updated);
      });
    },
    async remove(id: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const current = await findRow(trx, id);
        if (!current) throw notFound('This user');
        if (current.is_admin === 1 && current.disabled === 0 && (await countOtherActiveAdmins(trx, id)) === 0)
          throw new AppError('last_admin', 409, 'This is the only active admin and cannot be deleted.');
        // Their API keys could never work again (api-keys.ts checks the creator); nothing else
        // removes them, as api_keys.created_by has no foreign key.
        await trx.deleteFrom('api_keys').where('created_by', '=', id).execute();
        await trx.deleteFrom('users').where('id', '=', id).execute();
      });
    },
  };
}

/** Runs `work` in `conn` when it is already a transaction (kysely cannot nest them), else in a new one. */
export const inTransaction = <T>(conn: DbOrTransaction, work: (trx: Transaction<Schema>) => Promise<T>): Promise<T> =>
  conn instanceof Transaction ? work(conn) : conn.transaction().execute(work);

async function countOtherActiveAdmins(conn: DbOrTransaction, exceptId: string): Promise<number> {
  // Lock the active admins' rows first (a no-op UPDATE, which both databases accept): on PostgreSQL
  // two instances demoting two admins at once would otherwise each count the other and leave none.
  await conn.updateTable('users').set((eb) => ({ updated_at: eb.ref('updated_at') }))
    .where('is_admin', '=', 1).where('disabled', '=', 0).execute();
  const row = await conn.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('is_admin', '=', 1).where('disabled', '=', 0).where('id', '!=', exceptId).executeTakeFirstOrThrow();
  return Number(row.n);
}

export type UserStore = ReturnType<typeof createUserStore>;
