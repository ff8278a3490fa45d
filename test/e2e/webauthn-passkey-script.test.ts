// The browser script with a real Chromium and its virtual authenticator, against the real routes
// and assets, under a CSP that forbids inline scripts.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { manualClock } from '../../src/core/clock.ts';
import { forbidden } from '../../src/core/errors.ts';
import { openMigratedDatabase, type Database } from '../../src/storage/database.ts';
import { createMemoryStore } from '../../src/storage/ephemeral-store.ts';
import { installErrorHandling } from '../../src/web/error-handler.ts';
import { webauthnAssetRoutes } from '../../src/webauthn/asset-routes.ts';
import { createWebauthn } from '../../src/webauthn/index.ts';
import { webauthnRoutes } from '../../src/webauthn/routes.ts';
import { freePort } from '../helpers/free-port.ts';


const CSRF_TOKEN = 'csrf-test-token';

const page = (body: string) => `<!doctype html><html><head><meta charset="utf-8">
<meta name="csrf-token" content="${CSRF_TOKEN}"><title>t</title>
<script type="module" src="/assets/passkey.js"></script></head><body><main>${body}<p role="alert" hidden></p></main></body></html>`;

describe('passkey browser script', () => {
  let database: Database;
  let app: FastifyInstance;
  let browser: Browser;
  let context: BrowserContext;
  let tab: Page;
  let origin: string;
  let authenticatorId: string;
  let setUserVerified: (verified: boolean) => Promise<void>;
  let credentialsOnDevice: () => Promise<number>;

  before(async () => {
    database = await openMigratedDatabase(':memory:');
    const clock = manualClock(Date.now());
    app = Fastify();
    await app.register(cookie);
    installErrorHandling(app);
    // Every response forbids inline scripts, as the real pages do.
    app.addHook('onSend', async (_request, reply) => { reply.header('content-security-policy', "default-src 'self'; script-src 'self'"); });
    app.get('/register', (_request, reply) => reply.type('text/html').send(page(
      '<input id="passkey-name" value="Test laptop"><button data-passkey-register data-passkey-name-input="passkey-name">Add a passkey</button>')));
    app.get('/signin', (_request, reply) => reply.type('text/html').send(page('<button data-passkey-login>Sign in with a passkey</button>')));
    app.get('/done', (request, reply) => reply.type('text/html').send(page(`<h1>done ${JSON.stringify(request.query)}</h1>`)));
    await app.register(webauthnAssetRoutes);
    // The origin (with its port) must be known before the routes exist, so pick a free port first.
    const port = await freePort();
    origin = `http://localhost:${port}`;
    const webauthn = createWebauthn({ rpId: 'localhost', rpName: 'Test', origin, store: createMemoryStore(clock), db: database.db, clock });
    const requireCsrf = (header: unknown) => { if (header !== CSRF_TOKEN) throw forbidden('Missing CSRF token.'); };
    await app.register(webauthnRoutes, {
      webauthn,
      secureCookies: false,
      async resolveRegistrant(request) {
        requireCsrf(request.headers['x-csrf-token']);
        return { userId: 'alice', username: 'alice', displayName: 'Alice' };
      },
      onRegistered: (_request, _reply, passkey) => ({ redirectTo: `/done?registered=${encodeURIComponent(passkey.name)}` }),
      onLogin(request, _reply, login) {
        requireCsrf(request.headers['x-csrf-token']);
        return { redirectTo: `/done?user=${login.userId}` };
      },
    });
    await app.listen({ host: '127.0.0.1', port });
    await database.db.insertInto('users').values({
      id: 'alice', username: 'alice', email: null, first_name: 'Alice', last_name: '', is_admin: 0, disabled: 0,
      email_verified: 0, created_at: 0, updated_at: 0,
    }).execute();
    browser = await chromium.launch({
      executablePath: '/usr/lib/chromium/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--host-resolver-rules=MAP localhost 127.0.0.1, MAP plain.test 127.0.0.1`],
    });
    context = await browser.newContext();
    tab = await context.newPage();
    const cdp = await context.newCDPSession(tab);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    } }));
    setUserVerified = async (isUserVerified) => { await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified }); };
    credentialsOnDevice = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.length;
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.updateTable('users').set({ disabled: 0 }).execute();
  });

  const alertText = () => tab.locator('[role="alert"]').textContent();

  it('registers a passkey with the chosen name, then signs in with it, following redirectTo', async () => {
    await tab.goto(`${origin}/register`);
    await tab.click('[data-passkey-register]');
    await tab.waitForURL(/\/done\?registered=Test(\+|%20)laptop/);
    await tab.goto(`${origin}/signin`);
    await tab.click('[data-passkey-login]');
    await tab.waitForURL(/\/done\?user=alice/);
  });

  it("asks to start again when the ceremony's cookie does not come back, and signs in when the button is pressed again", async () => {
    await tab.goto(`${origin}/signin`);
    // The start's cookie is lost (cookies cleared mid-ceremony, or another browser finishing): the finish comes without it.
    await tab.route('**/api/webauthn/login/start', async (route) => {
      const response = await route.fetch();
      await context.clearCookies({ name: /latchkey_webauthn_/ });
      await route.fulfill({ response, headers: Object.fromEntries(Object.entries(response.headers()).filter(([name]) => name !== 'set-cookie')) });
    }, { times: 1 });
    await tab.click('[data-passkey-login]');
    await tab.waitForFunction(() => document.querySelector('[role="alert"]')?.textContent?.includes('start again'));
    assert.match(String(await alertText()), /not started in this browser, or its cookie was removed\. Please start again\./);
    assert.equal(await tab.isEnabled('[data-passkey-login]'), true);
    await tab.click('[data-passkey-login]');
    await tab.waitForURL(/\/done\?user=alice/);
  });

  it("shows the server's message when the account is disabled", async () => {
    await database.db.updateTable('users').set({ disabled: 1 }).execute();
    await tab.goto(`${origin}/signin`);
    await tab.click('[data-passkey-login]');
    await tab.waitForFunction(() => document.querySelector('[role="alert"]')?.textContent?.includes('disabled'));
    assert.match(String(await alertText()), /This account is disabled/);
    assert.equal(await tab.isEnabled('[data-passkey-login]'), true);
  });

  it("shows the server's message when the passkey is not registered here, and leaves the passkey on the device", async () => {
    const ids = await database.db.selectFrom('passkeys').select('id').execute();
    assert.ok(ids.length > 0);
    await database.db.deleteFrom('passkeys').execute();
    const before = await credentialsOnDevice();
    assert.ok(before > 0);
    await tab.goto(`${origin}/signin`);
    await tab.click('[data-passkey-login]');
    await tab.waitForFunction(() => document.querySelector('[role="alert"]')?.textContent?.includes('not registered'));
    // "Not registered here" is also what a restored backup, or a server started on an empty
    // database by mistake, says of a passkey it will know again: the device must keep it.
    await tab.waitForTimeout(200);
    assert.equal(await credentialsOnDevice(), before);
  });

  it('says the request was cancelled when the authenticator cannot verify the user (NotAllowedError)', async () => {
    await setUserVerified(false);
    try {
      await tab.goto(`${origin}/signin`);
      await tab.click('[data-passkey-login]');
      await tab.waitForFunction(() => document.querySelector('[role="alert"]')?.textContent?.includes('cancelled'));
      assert.equal(await tab.evaluate(() => document.activeElement?.hasAttribute('data-passkey-login')), true, 'keyboard focus is back on the button');
    } finally {
      await setUserVerified(true);
    }
  });

  it('explains that passkeys need a secure context on a plain http address', async () => {
    const port = new URL(origin).port;
    await tab.goto(`http://plain.test:${port}/signin`);
    await tab.waitForFunction(() => document.querySelector('[role="alert"]')?.textContent?.includes('secure connection'));
    assert.equal(await tab.isDisabled('[data-passkey-login]'), true);
  });
});
