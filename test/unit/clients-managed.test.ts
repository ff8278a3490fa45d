// serve's own client (SERVE_CLIENT_ID) is set up by serve at every start; the console, the API and
// the CLI (which use the id services' clients service) may list it but not change it: a regenerated
// secret or a deleted client broke every sign-in to the site until the next start.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createIdServices, type IdServices } from '../../src/app/id-services.ts';
import { ensureServeClient, SERVE_CLIENT_ID } from '../../src/app/serve-client.ts';
import { loadIdConfig } from '../../src/config/id-config.ts';
import { createClientsService } from '../../src/oidc/clients.ts';

describe("serve's own client", () => {
  let services: IdServices;
  before(async () => {
    const config = loadIdConfig({ env: { APP_URL: 'http://localhost:8081', DB_CONNECTION_STRING: ':memory:', ENCRYPTION_KEY: 'managed-client-test-key-0123456789' } });
    services = await createIdServices(config);
    const own = createClientsService({ db: services.database.db, clock: services.clock });
    await ensureServeClient(own, { origin: 'http://localhost:8080', backchannelLogoutUri: 'http://127.0.0.1:9/oauth2/backchannel-logout' });
  });
  after(() => services?.close());

  it('is listed, and cannot be changed, given a new secret, deleted or created again', async () => {
    const { clients } = services;
    assert.ok((await clients.list()).some((c) => c.id === SERVE_CLIENT_ID));
    const refused = { code: 'client_managed', status: 409, message: /belongs to latchkey serve, which sets it up at every start/ };
    await assert.rejects(clients.update(SERVE_CLIENT_ID, { name: 'mine now' }), refused);
    await assert.rejects(clients.regenerateSecret(SERVE_CLIENT_ID), refused);
    await assert.rejects(clients.delete(SERVE_CLIENT_ID), refused);
    await assert.rejects(clients.create({ id: SERVE_CLIENT_ID, name: 'x', redirectUris: ['http://localhost:9/cb'] }), refused);
    assert.equal((await clients.get(SERVE_CLIENT_ID)).name, 'localhost:8080 (latchkey serve)');
  });

  it('is set up again by serve at its next start', async () => {
    const own = createClientsService({ db: services.database.db, clock: services.clock });
    const secret = await ensureServeClient(own, { origin: 'http://localhost:8080', backchannelLogoutUri: 'http://127.0.0.1:9/oauth2/backchannel-logout' });
    assert.ok(secret.length > 20);
  });
});
