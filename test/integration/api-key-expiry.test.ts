// An expired API key is refused (verify()), and every list of keys says so: Admin → API keys and
// `latchkey api-key list`, text and --json. One rule decides both (apiKeyRefusal in
// identity/api-keys.ts), so a list never shows a key the server refuses as working.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { idBrowser } from '../helpers/id-browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';
import { runLatchkey } from '../helpers/latchkey-cli.ts';

describe('an expired API key', () => {
  let id: IdServer;
  let admin: ReturnType<typeof idBrowser>;
  const keys: Record<'expired' | 'live' | 'byCli', { id: string; key: string }> = {} as never;
  const status = async (key: string) => (await fetch(`${id.origin}/api/users`, { headers: { 'x-api-key': key } })).status;
  const cli = (args: string[]) => runLatchkey(args, {
    APP_URL: id.origin, DB_CONNECTION_STRING: join(id.dataDir, 'latchkey.db'), ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef',
  });

  before(async () => {
    id = await startIdServer();
    const { apiKeys, users, links } = id.services.identity;
    const owner = await users.create({ username: 'owner', isAdmin: true });
    const made = async (name: string, expiresAt: number | null, createdBy: string | null) => {
      const { key, apiKey } = await apiKeys.create({ name, expiresAt, createdBy });
      return { id: apiKey.id, key };
    };
    keys.expired = await made('old backup script', Date.now() - 60_000, owner.id);
    keys.live = await made('deploy script', Date.now() + 86_400_000, owner.id);
    keys.byCli = await made('expired cli key', Date.now() - 60_000, null);
    admin = idBrowser(id.origin);
    assert.equal((await admin.useOneTimeLink((await links.issue('signin', owner.id, 600)).token)).status, 303);
  });
  after(() => id?.close());

  it('is refused by the API, and listed as refused because it expired', async () => {
    assert.deepEqual([await status(keys.expired.key), await status(keys.byCli.key), await status(keys.live.key)], [401, 401, 200]);
    const listed = await id.services.identity.apiKeys.list();
    const of = (key: { id: string }) => listed.find((k) => k.id === key.id)!;
    assert.deepEqual([of(keys.expired).honoured, of(keys.expired).refusal], [false, 'expired']);
    assert.deepEqual([of(keys.byCli).honoured, of(keys.byCli).refusal], [false, 'expired'], 'a key made with the CLI expires too');
    assert.deepEqual([of(keys.live).honoured, of(keys.live).refusal], [true, null]);
  });

  it('shows as expired in Admin → API keys', async () => {
    const { html } = await admin.page('/admin/api-keys');
    const rowOf = (name: string) => new RegExp(`<th scope="row" data-label="Name">${name}</th>[\\s\\S]*?</tr>`).exec(html)?.[0] ?? '';
    assert.match(rowOf('old backup script'), /expired: refused/);
    assert.match(rowOf('expired cli key'), /expired: refused/);
    assert.doesNotMatch(rowOf('deploy script'), /expired|refused/);
  });

  it('shows as expired in latchkey api-key list, as text and as JSON', async () => {
    const [text, json] = await Promise.all([cli(['api-key', 'list']), cli(['api-key', 'list', '--json'])]);
    assert.equal(text.code, 0, text.stderr);
    const lineOf = (keyId: string) => text.stdout.split('\n').find((line) => line.startsWith(`${keyId}\t`)) ?? '';
    assert.match(lineOf(keys.expired.id), /\tREFUSED: expired \d{4}-\d\d-\d\dT/);
    assert.match(lineOf(keys.byCli.id), /\tREFUSED: expired /);
    assert.doesNotMatch(lineOf(keys.live.id), /REFUSED/);
    const listed = JSON.parse(json.stdout) as { id: string; honoured: boolean; refusal: string | null }[];
    assert.deepEqual(listed.find((k) => k.id === keys.expired.id)?.honoured, false);
  });
});
