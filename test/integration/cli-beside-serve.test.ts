// The admin commands on the database of `latchkey serve`: its issuer is serve's --id-url, which a
// command cannot guess, so without APP_URL it refuses instead of printing links to
// http://localhost:1411 and signing logout tokens the site refuses (a disabled user stayed signed in).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { createClientsService } from '../../src/oidc/clients.ts';
import { SERVE_CLIENT_ID } from '../../src/app/serve-client.ts';
import { openMigratedDatabase } from '../../src/storage/database.ts';
import { runLatchkey, scratchCommandEnv } from '../helpers/latchkey-cli.ts';

const { env } = scratchCommandEnv('latchkey-cli-serve-db-');
const { APP_URL: _unset, ...withoutAppUrl } = env;

describe('admin commands on the database of latchkey serve', () => {
  it('run as usual on a database without serve\'s client', async () => {
    const run = await runLatchkey(['user', 'list'], withoutAppUrl);
    assert.equal(run.code, 0, run.stderr);
  });

  describe('with serve\'s client in the database', () => {
    before(async () => {
      const database = await openMigratedDatabase(env.DB_CONNECTION_STRING);
      await createClientsService({ db: database.db, clock: systemClock }).create({ id: SERVE_CLIENT_ID, name: 'site', redirectUris: ['http://localhost:8080/oauth2/callback'] });
      await database.close();
    });

    it('refuse without APP_URL, naming what to set', async () => {
      const run = await runLatchkey(['one-time-link', 'alice'], withoutAppUrl);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /this is the database of latchkey serve: set APP_URL to its identity provider's address \(serve's --id-url/);
      assert.equal(run.stdout, '');
    });

    it('run with APP_URL set', async () => {
      const run = await runLatchkey(['user', 'list'], env);
      assert.equal(run.code, 0, run.stderr);
    });
  });
});
