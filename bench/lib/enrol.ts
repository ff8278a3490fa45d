// A person enrolled the way an admin invites one: a one-time link made through the storage layer
// (as `latchkey one-time-link` does), opened in a scripted browser, then "Add a passkey" over HTTP
// against a running `latchkey id`. The passkey is a synced one (its counter stays 0), so any
// number of concurrent sign-ins with copies of it are all valid.
import { randomBytes } from 'node:crypto';
import { systemClock } from '../../src/core/clock.ts';
import { createIdentity } from '../../src/identity/index.ts';
import { openMigratedDatabase } from '../../src/storage/database.ts';
import { idBrowser } from '../../test/helpers/id-browser.ts';
import { createSoftAuthenticator, type ExportedCredential, type SoftAuthenticator } from '../../test/helpers/soft-authenticator.ts';

export interface EnrolledUser {
  userId: string;
  username: string;
  email: string;
  authenticator: SoftAuthenticator;
  credential: ExportedCredential;
}

/** A new user with one passkey, in the id whose database is `database` and whose origin is `idOrigin`. */
export async function enrolPasskeyUser(database: string, idOrigin: string): Promise<EnrolledUser> {
  const opened = await openMigratedDatabase(database);
  let userId: string;
  let token: string;
  const username = `bench-${randomBytes(4).toString('hex')}`;
  const email = `${username}@example.com`;
  try {
    const identity = createIdentity({ db: opened.db, clock: systemClock, sessionTtlSeconds: 3600 });
    const user = await identity.users.create({ username, email, emailVerified: true });
    userId = user.id;
    ({ token } = await identity.links.issue('signin', user.id, 600));
  } finally {
    await opened.close();
  }
  const browser = idBrowser(idOrigin);
  const authenticator = createSoftAuthenticator({ origin: idOrigin, rpId: new URL(idOrigin).hostname, signCounter: 'zero' });
  Object.assign(browser.authenticator, authenticator);
  const used = await browser.useOneTimeLink(token);
  if (used.status !== 303) throw new Error(`the one-time link answered ${used.status}`);
  await browser.page('/account');
  const registered = await browser.registerPasskey('Bench');
  if (registered.response.status !== 200) throw new Error(`passkey registration failed: ${JSON.stringify(registered.body)}`);
  const [credential] = authenticator.exportCredentials();
  return { userId, username, email, authenticator, credential };
}

/** A browser's authenticator holding just `credential` (a synced passkey: counter always 0). */
export function authenticatorWith(idOrigin: string, credential: ExportedCredential): SoftAuthenticator {
  const authenticator = createSoftAuthenticator({ origin: idOrigin, rpId: credential.rpId, signCounter: 'zero' });
  authenticator.importCredential(credential);
  return authenticator;
}
