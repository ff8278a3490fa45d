// The console names each app a sign-out did not reach, with the cause in a few words
// (src/oidc/untold-apps.ts): the raw error of a failed back-channel logout is a chain of fetch
// internals ("fetch failed: getaddrinfo ENOTFOUND agents.example").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { causeInWords, NO_LOGOUT_URI, untoldApps } from '../../src/oidc/untold-apps.ts';
import { notFound } from '../../src/core/errors.ts';

describe('the cause of a back-channel logout that failed, in words', () => {
  it('says that a host name does not resolve from this server, with the code', () => {
    assert.equal(causeInWords('fetch failed: getaddrinfo ENOTFOUND agents.example'), 'its host name does not resolve from this server (ENOTFOUND)');
  });

  it('says that nothing listens at the address', () => {
    assert.equal(causeInWords('fetch failed: connect ECONNREFUSED 127.0.0.1:24443'), 'nothing accepts connections at that address (ECONNREFUSED)');
  });

  it('quotes the answer of an app that refused the token', () => {
    assert.equal(causeInWords('expected 200 OK from https://agents.example/oauth2/backchannel-logout, got: 404 Not Found'), 'it answered 404 Not Found');
  });

  it('says that the app did not answer in time', () => {
    assert.equal(causeInWords('The operation was aborted due to timeout'), 'it did not answer in time');
  });

  it('shows an error it does not know as it came, shortened', () => {
    assert.equal(causeInWords('something odd'), 'something odd');
    assert.equal(causeInWords('x'.repeat(500)).length, 160);
  });
});

describe('the apps a sign-out did not reach', () => {
  it("names each by the console's name for it, or by its id when it is gone", async () => {
    const clients = { get: async (id: string) => { if (id === 'site') return { name: 'Agents' }; throw notFound('An app'); } };
    const apps = await untoldApps(clients, {
      sessionsEnded: 1, grantsRevoked: 2, notifiedClients: ['wiki'],
      failedClients: [{ clientId: 'site', uri: 'https://agents.example/x', reason: 'fetch failed: getaddrinfo ENOTFOUND agents.example' }, { clientId: 'gone', uri: 'https://gone.example/x', reason: 'odd' }],
      clientsWithoutLogoutUri: [],
    });
    assert.deepEqual(apps, [
      { name: 'Agents', clientId: 'site', uri: 'https://agents.example/x', cause: 'its host name does not resolve from this server (ENOTFOUND)' },
      { name: 'gone', clientId: 'gone', uri: 'https://gone.example/x', cause: 'odd' },
    ]);
    assert.deepEqual(await untoldApps(clients, null), []);
  });

  it('names an app without a back-channel logout URI, with the URI to set when it is a proxy', async () => {
    const clients = {
      get: async (id: string) => id === 'site'
        ? { name: 'Agents', redirectUris: ['https://agents.example/oauth2/callback'] }
        : { name: 'Notes', redirectUris: ['https://notes.example/auth/cb'] },
    };
    const apps = await untoldApps(clients, { sessionsEnded: 1, grantsRevoked: 2, notifiedClients: [], failedClients: [], clientsWithoutLogoutUri: ['site', 'notes'] });
    assert.deepEqual(apps, [
      { name: 'Agents', clientId: 'site', uri: null, cause: NO_LOGOUT_URI, suggestedUri: 'https://agents.example/oauth2/backchannel-logout' },
      { name: 'Notes', clientId: 'notes', uri: null, cause: NO_LOGOUT_URI },
    ]);
  });
});
