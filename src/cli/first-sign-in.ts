// What `latchkey id` and `latchkey serve` log at start while nobody can administer them: the
// one-time setup link while no admin exists, and a one-time sign-in link while admins exist but
// none has a passkey (setup was left before the passkey was added: the setup link is spent then,
// and without this the server would say nothing while nobody could sign in as an admin).
// Only the operator, who can read this log, gets either link.
import type { Logger } from 'pino';
import type { IdServices } from '../app/id-services.ts';
import { signInLinkUrl } from './one-time-link.ts';
import { setupUrl } from './setup-link.ts';

const SIGN_IN_LINK_SECONDS = 24 * 3600;

export async function announceFirstSignIn(services: Pick<IdServices, 'identity' | 'database'>, origin: string, log: Pick<Logger, 'warn'>): Promise<void> {
  const { identity, database } = services;
  if (!(await identity.setup.isComplete())) {
    const { token } = await identity.setup.issueLink();
    log.warn({ event: 'setup_link' }, `No admin yet. Create one with this one-time link: ${setupUrl(origin, token)}`);
    return;
  }
  const enabledAdmins = database.db.selectFrom('users').where('users.is_admin', '=', 1).where('users.disabled', '=', 0);
  const withPasskey = await enabledAdmins.innerJoin('passkeys', 'passkeys.user_id', 'users.id').select('users.id').limit(1).executeTakeFirst();
  if (withPasskey) return;
  const admin = await enabledAdmins.select(['users.id', 'users.username']).orderBy('users.created_at').limit(1).executeTakeFirst();
  if (!admin) return;
  // Every start logs a new link, so the one an earlier start logged is withdrawn (as a new setup
  // link replaces the old): only the newest, in the newest log lines, works, and a link left in
  // an old log (a file kept for months, a log shipper) signs nobody in.
  const { token } = await identity.links.issueSignIn(admin.id, SIGN_IN_LINK_SECONDS);
  log.warn({ event: 'admin_sign_in_link' },
    `No admin has a passkey yet. Sign in as ${admin.username} with this one-time link (valid 24 hours) and add one: ${signInLinkUrl(origin, token)}`);
}
