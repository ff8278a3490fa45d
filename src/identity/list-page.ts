import { badRequest } from '../core/errors.ts';

// Pocket ID's list endpoints (its utils/list_request_util.go): `?search=…&pagination[page]=2&
// pagination[limit]=20&sort[column]=name&sort[direction]=desc`, answered as `{ data, pagination }`.
// The admin API's lists speak this so scripts that page through Pocket ID keep working.

export interface ListQuery {
  search?: string;
  'pagination[page]'?: number;
  'pagination[limit]'?: number;
  'sort[column]'?: string;
  'sort[direction]'?: string;
}

export interface Pagination {
  totalPages: number;
  totalItems: number;
  currentPage: number;
  itemsPerPage: number;
}

/**
 * Unknown parameters are refused rather than ignored: Pocket ID's `filters[…]` are not supported,
 * and a script relying on one must not get an unfiltered list back as if it had worked. A page or
 * limit out of range, and a sort direction, are read as Pocket ID reads them (pageOf, sortOf):
 * scripts written for it send them so, and the answer's `pagination` says what it used.
 */
export const listQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    search: { type: 'string', maxLength: 100 },
    'pagination[page]': { type: 'integer' },
    'pagination[limit]': { type: 'integer' },
    'sort[column]': { type: 'string', maxLength: 50 },
    'sort[direction]': { type: 'string', maxLength: 20 },
  },
} as const;

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

/**
 * The page to show, with Pocket ID's rules (its utils.Paginate): 20 per page unless asked, also
 * for a limit below 1 (0, -1); never more than 100 (the answer's `itemsPerPage` says so); a page
 * below 1 is the first, and a page past the end shows the last one.
 */
export function pageOf(query: ListQuery, totalItems: number): { offset: number; limit: number; pagination: Pagination } {
  const asked = query['pagination[limit]'] ?? DEFAULT_LIMIT;
  const limit = asked < 1 ? DEFAULT_LIMIT : Math.min(asked, MAX_LIMIT);
  const totalPages = Math.max(1, Math.ceil(totalItems / limit));
  const currentPage = Math.min(Math.max(query['pagination[page]'] ?? 1, 1), totalPages);
  return { offset: (currentPage - 1) * limit, limit, pagination: { totalPages, totalItems, currentPage, itemsPerPage: limit } };
}

/** Pocket ID's NormalizeSortDirection: `desc` in any case (spaces around allowed), else `asc`. */
export const sortDirectionOf = (direction: string | undefined): 'asc' | 'desc' =>
  direction?.trim().toLowerCase() === 'desc' ? 'desc' : 'asc';

/**
 * The sort the query asks for, among the columns this list can sort by (keyed by Pocket ID's field
 * name). Pocket ID ignores a column it cannot sort by; here that is a 400 naming the ones it can.
 */
export function sortOf<C extends string>(query: ListQuery, columns: Readonly<Record<string, C>>): { column: C; direction: 'asc' | 'desc' } | undefined {
  const requested = query['sort[column]'];
  if (!requested) return undefined;
  const column = Object.hasOwn(columns, requested) ? columns[requested] : undefined;
  if (!column)
    throw badRequest('invalid_sort', `This list cannot be sorted by "${requested}"; use one of ${Object.keys(columns).join(', ')}.`, { fields: { 'sort[column]': 'invalid' } });
  return { column, direction: sortDirectionOf(query['sort[direction]']) };
}

/** Searches, sorts and pages a list already in memory (groups and clients: a handful of rows). */
export function pageInMemory<T, C extends string>(
  items: readonly T[], query: ListQuery, options: { columns: Readonly<Record<string, C>>; valueOf: (item: T, column: C) => string | number | boolean | null; searchIn: (item: T) => string[] },
): { items: T[]; pagination: Pagination } {
  const term = query.search?.toLowerCase();
  const found = term ? items.filter((item) => options.searchIn(item).some((text) => text.toLowerCase().includes(term))) : [...items];
  const sort = sortOf(query, options.columns);
  if (sort) {
    const sign = sort.direction === 'desc' ? -1 : 1;
    const key = (item: T) => options.valueOf(item, sort.column) ?? '';
    found.sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      return sign * (typeof x === 'string' && typeof y === 'string' ? x.localeCompare(y) : Number(x) - Number(y));
    });
  }
  const { offset, limit, pagination } = pageOf(query, found.length);
  return { items: found.slice(offset, offset + limit), pagination };
}
