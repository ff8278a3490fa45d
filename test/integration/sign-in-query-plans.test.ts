// Issue #8, target 6: a sign-in costs the same with 10 or 100,000 people stored. On SQLite (the
// default), every statement of a whole passkey sign-in — authorization, the passkey ceremony,
// consent, the code exchange — must reach the tables that grow with people through an index; a
// full scan there would make every sign-in slower as a deployment grows. The id runs in this
// process, so the statements are recorded as node:sqlite prepares them, then explained.
// (bench/data-growth.ts measures the same on PostgreSQL with its own scan counters.)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { authorizeWithPasskey, enrollUser, type IdBrowser } from '../helpers/id-passkey-flow.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const REDIRECT_URI = 'http://localhost:9/oauth2/callback';
/** Tables with rows per person, per sign-in or per invitation: everything but settings and keys. */
const GROWING = new Set(['users', 'user_groups', 'passkeys', 'one_time_links', 'web_sessions', 'audit_log', 'oidc_payloads', 'api_keys', 'recovery_codes']);

const recorded = new Set<string>();
let recording = false;
const originalPrepare = DatabaseSync.prototype.prepare;

describe('the statements of a passkey sign-in on SQLite', () => {
  let id: IdServer;
  let browser: IdBrowser;
  let config: client.Configuration;

  before(async () => {
    DatabaseSync.prototype.prepare = function (this: DatabaseSync, ...args: Parameters<typeof originalPrepare>) {
      if (recording) recorded.add(args[0]);
      return originalPrepare.apply(this, args);
    };
    id = await startIdServer();
    ({ browser } = await enrollUser(id, { username: 'alice', email: 'alice@example.com', groups: ['friends'] }));
    const { client: made, secret } = await id.services.clients.create({ name: 'site', redirectUris: [REDIRECT_URI], allowedGroups: ['friends'] });
    config = await client.discovery(new URL(id.origin), made.id, secret!, undefined, { execute: [client.allowInsecureRequests] });
  });
  after(async () => {
    DatabaseSync.prototype.prepare = originalPrepare;
    await id?.close();
  });

  it('look people, passkeys, sessions and tokens up by index, never by reading a whole table', async () => {
    recording = true;
    try {
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI, scope: 'openid email profile groups', state,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
      });
      const outcome = await authorizeWithPasskey(browser, id, url.href, REDIRECT_URI);
      assert.equal(outcome.signedInWithPasskey, true);
      assert.ok(outcome.callback, `stopped with ${outcome.finalStatus}`);
      await client.authorizationCodeGrant(config, outcome.callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
    } finally {
      recording = false;
    }
    assert.ok(recorded.size >= 10, `recorded ${recorded.size} statements`);

    const explainer = new DatabaseSync(join(id.dataDir, 'latchkey.db'), { readOnly: true });
    try {
      const fullScans: string[] = [];
      for (const statement of recorded) {
        if (!/^\s*(select|insert|update|delete|with)\b/i.test(statement)) continue;
        // SEARCH is an index lookup; SCAN reads the whole table (or a whole index) in order.
        const plan = explainer.prepare(`explain query plan ${statement}`).all() as { detail: string }[];
        for (const { detail } of plan) {
          const table = /^SCAN (\w+)/.exec(detail)?.[1];
          if (table && GROWING.has(table)) fullScans.push(`${detail}: ${statement}`);
        }
      }
      assert.deepEqual(fullScans, []);
    } finally {
      explainer.close();
    }
  });
});
