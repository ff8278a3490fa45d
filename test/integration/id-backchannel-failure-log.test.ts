// Removing or disabling a user in the admin console (or the API) sends back-channel logout to the
// apps they used. When an app cannot be reached, its own session (a proxy's cookie) goes on, and
// the admin console still says "The user was deleted": the log must say so at warn. It was only
// an info-level audit line: oidc-provider's 'backchannel.error' event does not fire for the tokens
// latchkey sends itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogDestination } from '../../src/app/logger.ts';
import { APP_REDIRECT_URI, signedInUser, signInToApp } from '../helpers/account-fixture.ts';
import { freePort } from '../helpers/free-port.ts';
import { startIdServer } from '../helpers/id-server.ts';

describe('a back-channel logout that cannot reach the app', () => {
  it('is logged at warn with the app, the address and the cause', async () => {
    const lines: string[] = [];
    const log: LogDestination = { write(line: string) { lines.push(line); } };
    const id = await startIdServer({ LOG_LEVEL: 'info' }, { logDestination: log });
    try {
      const closed = await freePort();
      const uri = `http://127.0.0.1:${closed}/oauth2/backchannel-logout`;
      await id.services.clients.create({ id: 'site', name: 'Site', redirectUris: [APP_REDIRECT_URI], unrestricted: true, backchannelLogoutUri: uri });
      const { user, browser } = await signedInUser(id, { username: 'leaving' });
      await signInToApp(id, browser, 'site');
      const report = await id.oidc.logoutUser(user.id);
      assert.deepEqual(report.failedClients.map((f) => f.clientId), ['site']);
      const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 40 && String(l.msg).startsWith('back-channel logout failed'));
      assert.equal(warnings.length, 1, lines.join(''));
      assert.equal(warnings[0].clientId, 'site');
      assert.equal(warnings[0].uri, uri);
      assert.match(String(warnings[0].reason), new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${closed}`));
      assert.match(String(warnings[0].msg), /a session it holds \(a proxy cookie\) goes on/);
    } finally {
      await id.close();
    }
  });

  it('is logged at warn too when the app has no back-channel logout URI, so nothing was sent', async () => {
    const lines: string[] = [];
    const log: LogDestination = { write(line: string) { lines.push(line); } };
    const id = await startIdServer({ LOG_LEVEL: 'info' }, { logDestination: log });
    try {
      await id.services.clients.create({ id: 'bare', name: 'Bare', redirectUris: [APP_REDIRECT_URI], unrestricted: true });
      await id.services.clients.create({ id: 'unused', name: 'Unused', redirectUris: [APP_REDIRECT_URI], unrestricted: true });
      const { user, browser } = await signedInUser(id, { username: 'unheard' });
      await signInToApp(id, browser, 'bare');
      const report = await id.oidc.logoutUser(user.id);
      assert.deepEqual(report.clientsWithoutLogoutUri, ['bare'], 'only an app the user used');
      const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 40 && String(l.msg).startsWith('back-channel logout not sent'));
      assert.deepEqual(warnings.map((w) => w.clientId), ['bare'], lines.join(''));
    } finally {
      await id.close();
    }
  });
});
