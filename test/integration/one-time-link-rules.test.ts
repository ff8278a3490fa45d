// The rules every one-time sign-in link for a user follows, wherever an admin makes it (the console,
// Pocket ID's `POST /api/users/:id/one-time-access-token`, latchkey's `…/one-time-link`): none for
// a disabled user, and only the newest works. And disabling a user, from the console, the API or
// `latchkey user disable`, withdraws their unused links, so none works again once they are enabled.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { idBrowser } from '../helpers/id-browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';
import { runLatchkey } from '../helpers/latchkey-cli.ts';

type Json = Record<string, unknown>;

describe('one-time sign-in links made by an admin', () => {
  /** The environment of latchkey's CLI beside this server. */
  const cliEnv = () => ({ APP_URL: id.origin, DB_CONNECTION_STRING: join(id.dataDir, 'latchkey.db'), ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef' });
  let id: IdServer;
  let apiKey: string;
  let admin: ReturnType<typeof idBrowser>;
  let userNumber = 0;

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${id.origin}${path}`, {
      method, headers: { 'x-api-key': apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };
  const newUser = async () => id.services.identity.users.create({ username: `friend${++userNumber}` });
  const works = async (token: string) => (await id.services.identity.links.peek(token, 'signin')) !== null;
  const linksOf = async (userId: string) => Number((await id.services.database.db.selectFrom('one_time_links')
    .select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n);
  /** Posts a console form as the page does: it loads the page first, for its CSRF token. */
  const submit = async (page: string, fields: Record<string, string>) => {
    await admin.page(page);
    return admin.form(page, fields);
  };
  const consoleLink = async (userId: string) => {
    const made = await submit(`/admin/users/${userId}/link`, { ttlSeconds: '3600' });
    assert.equal(made.status, 303);
    const { html } = await admin.page(made.headers.get('location')!);
    return /\/lc\/([\w-]{43})/.exec(html)![1];
  };

  before(async () => {
    id = await startIdServer();
    const adminUser = await id.services.identity.users.create({ username: 'admin', isAdmin: true });
    apiKey = (await id.services.identity.apiKeys.create({ name: 'script', createdBy: adminUser.id })).key;
    admin = idBrowser(id.origin);
    const { token } = await id.services.identity.links.issue('signin', adminUser.id, 600);
    assert.equal((await admin.useOneTimeLink(token)).status, 303);
  });
  after(() => id?.close());

  describe("Pocket ID's request bodies", () => {
    it('accepts the userId that Pocket ID 2.0–2.3 sent along with the ttl', async () => {
      const user = await newUser();
      const { status, body } = await api('POST', `/api/users/${user.id}/one-time-access-token`, { userId: user.id, ttl: '1h' });
      assert.equal(status, 201, JSON.stringify(body));
      assert.ok(await works(body.token as string));
      const lifetimeMs = Date.parse(body.expiresAt as string) - Date.now();
      assert.ok(lifetimeMs > 59 * 60_000 && lifetimeMs <= 3600_000, `expires in ${lifetimeMs} ms`);
    });

    it('accepts userId with 1.x\'s expiresAt, and on latchkey\'s own path', async () => {
      const user = await newUser();
      const expiresAt = new Date(Date.now() + 2 * 3600_000).toISOString();
      const { status, body } = await api('POST', `/api/users/${user.id}/one-time-access-token`, { userId: user.id, expiresAt });
      assert.equal(status, 201, JSON.stringify(body));
      assert.ok(Math.abs(Date.parse(body.expiresAt as string) - Date.parse(expiresAt)) < 2000);
      const own = await api('POST', `/api/users/${user.id}/one-time-link`, { userId: user.id });
      assert.equal(own.status, 201, JSON.stringify(own.body));
      const lifetimeMs = Date.parse(own.body.expiresAt as string) - Date.now();
      assert.ok(lifetimeMs > 23 * 3600_000, 'userId alone leaves one-time-link at its own default of a day');
    });

    it('refuses a userId that names another user than the path, making no link for either', async () => {
      const [user, other] = [await newUser(), await newUser()];
      const { status, body } = await api('POST', `/api/users/${user.id}/one-time-access-token`, { userId: other.id, ttl: '1h' });
      assert.deepEqual([status, body.error], [400, 'user_id_mismatch']);
      assert.match(body.message as string, /"userId" names another user than the path/);
      assert.deepEqual([await linksOf(user.id), await linksOf(other.id)], [0, 0]);
    });
  });

  describe('the same rules in the console and the API', () => {
    it('refuses a link for a disabled user with 409, in the API as in the console', async () => {
      const user = await newUser();
      await id.services.identity.users.update(user.id, { disabled: true });
      for (const path of ['one-time-access-token', 'one-time-link']) {
        const { status, body } = await api('POST', `/api/users/${user.id}/${path}`, {});
        assert.deepEqual([status, body.error], [409, 'user_disabled'], path);
        assert.match(body.message as string, /is disabled: enable them first/);
      }
      assert.equal((await submit(`/admin/users/${user.id}/link`, { ttlSeconds: '3600' })).status, 409);
      const cli = await runLatchkey(['one-time-link', user.username], cliEnv());
      assert.equal(cli.code, 1, cli.stdout);
      assert.match(cli.stderr, /is disabled: enable them first/);
      assert.equal(await linksOf(user.id), 0);
    });

    it("withdraws the user's older unused link when latchkey one-time-link makes a new one", async () => {
      const user = await newUser();
      const fromConsole = await consoleLink(user.id);
      const cli = await runLatchkey(['one-time-link', user.username, '--json'], cliEnv());
      assert.equal(cli.code, 0, cli.stderr);
      const fromCli = new URL((JSON.parse(cli.stdout) as { url: string }).url).pathname.split('/').pop()!;
      assert.deepEqual([await works(fromConsole), await works(fromCli)], [false, true]);
    });

    it("withdraws the user's older unused link when the API makes a new one, whoever made the older", async () => {
      const user = await newUser();
      const fromConsole = await consoleLink(user.id);
      const first = (await api('POST', `/api/users/${user.id}/one-time-access-token`, { ttl: '1h' })).body.token as string;
      assert.equal(await works(fromConsole), false, "the console's link is withdrawn");
      const second = (await api('POST', `/api/users/${user.id}/one-time-access-token`, {})).body.token as string;
      assert.deepEqual([await works(first), await works(second)], [false, true]);
      const fromConsoleAgain = await consoleLink(user.id);
      assert.deepEqual([await works(second), await works(fromConsoleAgain)], [false, true], 'and the console withdraws the API\'s');
    });
  });

  describe('disabling a user withdraws their unused links, so enabling them again brings none back', () => {
    const disabledThenEnabled = async (disable: (userId: string, username: string) => Promise<void>) => {
      const user = await newUser();
      const { token } = await id.services.identity.links.issue('signin', user.id, 3600);
      await disable(user.id, user.username);
      assert.equal((await id.services.identity.users.require(user.id)).disabled, true);
      await id.services.identity.users.update(user.id, { disabled: false });
      assert.equal(await works(token), false, 'the link made before the disabling no longer works');
      assert.equal((await idBrowser(id.origin).useOneTimeLink(token)).status, 400);
    };

    it('from the API', () => disabledThenEnabled(async (userId) => {
      assert.equal((await api('PUT', `/api/users/${userId}`, { disabled: true })).status, 200);
    }));

    it('from the console', () => disabledThenEnabled(async (userId) => {
      assert.equal((await submit(`/admin/users/${userId}/disable`, { confirm: 'yes' })).status, 303);
    }));

    it('from latchkey user disable', () => disabledThenEnabled(async (_, username) => {
      const run = await runLatchkey(['user', 'disable', username], cliEnv());
      assert.equal(run.code, 0, run.stderr);
    }));
  });
});
