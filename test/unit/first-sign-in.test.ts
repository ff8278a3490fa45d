// What id and serve log at start while nobody can administer them (src/cli/first-sign-in.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { announceFirstSignIn } from '../../src/cli/first-sign-in.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createIdentity, type Identity } from '../../src/identity/index.ts';
import { openMigratedDatabase, type Database } from '../../src/storage/database.ts';

const ORIGIN = 'http://localhost:8081';

describe('the first sign-in announced at start', () => {
  let database: Database;
  let identity: Identity;
  const announce = async () => {
    const lines: string[] = [];
    await announceFirstSignIn({ identity, database }, ORIGIN, { warn: (_fields: object, line: string) => void lines.push(line) } as never);
    return lines;
  };
  before(async () => {
    database = await openMigratedDatabase(':memory:');
    identity = createIdentity({ db: database.db, clock: systemClock, sessionTtlSeconds: 3600 });
  });
  after(() => database?.close());

  it('is the setup link while no admin exists', async () => {
    const [line] = await announce();
    assert.match(line, /^No admin yet\. Create one with this one-time link: http:\/\/localhost:8081\/setup\?token=/);
  });

  it('is a sign-in link for the admin when setup was left before a passkey was added', async () => {
    const { token: setupToken } = await identity.setup.issueLink();
    const admin = await identity.setup.complete(setupToken, { username: 'ada', email: null, firstName: 'Ada', lastName: '' });
    const [line] = await announce();
    const match = /^No admin has a passkey yet\. Sign in as ada with this one-time link \(valid 24 hours\) and add one: http:\/\/localhost:8081\/lc\/([\w-]+)$/.exec(line ?? '');
    assert.ok(match, line);
    assert.deepEqual(await identity.links.peek(match[1], 'signin'), { userId: admin.id });
  });

  it('withdraws the sign-in link an earlier start logged, as a new setup link replaces the old', async () => {
    const tokenOf = (line: string | undefined) => /\/lc\/([\w-]+)$/.exec(line ?? '')![1];
    const [earlier] = (await announce()).map(tokenOf);
    const [later] = (await announce()).map(tokenOf);
    assert.equal(await identity.links.peek(earlier, 'signin'), null, 'the link in the older log lines no longer works');
    assert.ok(await identity.links.peek(later, 'signin'));
  });

  it('is nothing once an admin has a passkey', async () => {
    const [admin] = (await database.db.selectFrom('users').select('id').execute());
    await database.db.insertInto('passkeys').values({
      id: 'cred-1', user_id: admin.id, public_key: 'AQ', sign_count: 0, transports: '[]', name: 'laptop', aaguid: '',
      backup_eligible: 0, backup_state: 0, created_at: 0, last_used_at: null,
    }).execute();
    assert.deepEqual(await announce(), []);
  });
});
