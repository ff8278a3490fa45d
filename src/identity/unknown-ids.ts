import { badRequest } from '../core/errors.ts';

/**
 * Refuses the ids in `asked` that `found` lacks, naming each. The admin API speaks in ids (as
 * Pocket ID's does); Pocket ID drops unknown ones without a word, here they are a 400, so a typo
 * cannot quietly take someone out of a group or an app.
 */
export function refuseUnknownIds(asked: readonly string[], found: readonly { id: string }[], error: { code: string; what: string; field: string }): void {
  const missing = asked.filter((id) => !found.some((row) => row.id === id));
  if (missing.length)
    throw badRequest(error.code, `No ${error.what} has the ID ${missing.map((id) => `"${id}"`).join(', ')}.`, { fields: { [error.field]: 'invalid' } });
}
