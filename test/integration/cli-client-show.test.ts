// `latchkey client show ID` as text says everything --json says: the back-channel logout URI
// (whether removing a user signs them out of the app), post-logout redirect URIs, public or not,
// PKCE, and the times, which the one-line form of `client list` leaves out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runLatchkey, scratchCommandEnv } from '../helpers/latchkey-cli.ts';

describe('latchkey client show', () => {
  const { env } = scratchCommandEnv('latchkey-client-show-');

  it('prints every field of --json in text, back-channel logout URI included', async () => {
    const added = await runLatchkey(['client', 'add', '--id', 'agents', '--name', 'Agents', '--redirect-uri', 'https://agents.example.com/oauth2/callback',
      '--post-logout-redirect-uri', 'https://agents.example.com/', '--backchannel-logout-uri', 'https://agents.example.com/oauth2/backchannel-logout',
      '--require-pkce', '--unrestricted'], env);
    assert.equal(added.code, 0, added.stderr);
    const [text, json] = await Promise.all([runLatchkey(['client', 'show', 'agents'], env), runLatchkey(['client', 'show', '--json', 'agents'], env)]);
    assert.equal(text.code, 0, text.stderr);
    const client = JSON.parse(json.stdout) as Record<string, unknown>;

    assert.match(text.stdout, /^Back-channel logout URI: +https:\/\/agents\.example\.com\/oauth2\/backchannel-logout$/m);
    assert.match(text.stdout, /^Post-logout redirect URIs: https:\/\/agents\.example\.com\/$/m);
    assert.match(text.stdout, /^Type: +confidential/m);
    assert.match(text.stdout, /^PKCE required: +yes$/m);
    assert.match(text.stdout, /^Groups: +\(everyone: unrestricted\)$/m);
    // and nothing --json has is left out
    const shown: Record<string, string> = {
      id: String(client.id), name: String(client.name), redirectUris: (client.redirectUris as string[]).join(' '),
      postLogoutRedirectUris: (client.postLogoutRedirectUris as string[]).join(' '), backchannelLogoutUri: String(client.backchannelLogoutUri),
      isPublic: client.isPublic ? 'public' : 'confidential', requirePkce: client.requirePkce ? 'yes' : 'no', unrestricted: '(everyone: unrestricted)',
      allowedGroups: '(everyone: unrestricted)', createdAt: new Date(client.createdAt as number).toISOString(), updatedAt: new Date(client.updatedAt as number).toISOString(),
    };
    assert.deepEqual(Object.keys(shown).sort(), Object.keys(client).sort(), 'a field --json has that this test does not know: show it in text too');
    for (const [field, value] of Object.entries(shown)) assert.ok(text.stdout.includes(value), `${field} (${value}) is missing from:\n${text.stdout}`);
  });

  it('says "(none)" for a client without back-channel logout, and "(nobody)" for one without groups', async () => {
    const added = await runLatchkey(['client', 'add', '--id', 'grafana', '--name', 'Grafana', '--redirect-uri', 'https://grafana.example.com/login/generic_oauth'], env);
    assert.equal(added.code, 0, added.stderr);
    const text = await runLatchkey(['client', 'show', 'grafana'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Back-channel logout URI: +\(none\)$/m);
    assert.match(text.stdout, /^Post-logout redirect URIs: \(none\)$/m);
    assert.match(text.stdout, /^Groups: +\(nobody\)$/m);
  });
});
