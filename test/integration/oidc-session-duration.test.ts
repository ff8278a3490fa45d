// The session duration an admin saves (Admin → Settings) bounds what apps get from the provider too:
// its sessions, grants and refresh tokens, after a restart and while running, and a shorter
// duration ends refresh tokens issued under a longer one at their next use. (SESSION_DURATION only
// gives the value until an admin saves one.)
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createIdApp, type IdApp } from '../../src/app/id-app.ts';
import { loadIdConfig } from '../../src/config/id-config.ts';
import { manualClock } from '../../src/core/clock.ts';
import { storedPayloadId } from '../../src/oidc/adapter.ts';
import { APP_REDIRECT_URI, signedInUser, type SignedInBrowser } from '../helpers/account-fixture.ts';
import { freePort } from '../helpers/free-port.ts';
import type { IdServer } from '../helpers/id-server.ts';

const FIVE_MINUTES = 5 * 60;
const THIRTY_DAYS = 720 * 3600;

interface TokenAnswer { status: number; body: { refresh_token?: string; expires_in?: number; id_token?: string; error?: string; error_description?: string } }

describe('the admin\'s session duration at the OIDC provider', () => {
  const clock = manualClock(Date.now());
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-id-'));
  let app: IdApp;
  let id: IdServer;
  let secret: string;

  before(async () => {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const config = loadIdConfig({ env: {
      APP_URL: origin, PORT: String(port), HOST: '127.0.0.1', DB_CONNECTION_STRING: join(dataDir, 'latchkey.db'),
      ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef', LOG_LEVEL: 'warn', SESSION_DURATION: '720h',
    } });
    // An admin shortens the duration; then the server restarts on the same database.
    const first = await createIdApp(config, { logger: false });
    await first.services.identity.settings.update({ sessionDuration: '5m' });
    await first.close();
    app = await createIdApp(config, { logger: false, clock });
    await app.listen();
    id = { ...app, origin, port, dataDir };
    secret = (await app.services.clients.create({ id: 'app', name: 'App', redirectUris: [APP_REDIRECT_URI], unrestricted: true })).secret!;
  });
  after(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // oidc-provider stamps tokens with the system clock (iat, iiat) and latchkey keeps their expiry by
  // its own: each test starts with the two agreeing, as they always do outside tests.
  beforeEach(() => clock.advanceMs(Date.now() - clock.nowMs()));
  const advanceSeconds = (seconds: number) => clock.advanceMs(seconds * 1000);

  async function tokenRequest(body: Record<string, string>): Promise<TokenAnswer> {
    const response = await fetch(`${id.origin}/api/oidc/token`, {
      method: 'POST', headers: { authorization: `Basic ${Buffer.from(`app:${secret}`).toString('base64')}` }, body: new URLSearchParams(body),
    });
    return { status: response.status, body: await response.json() as TokenAnswer['body'] };
  }
  const refresh = (refreshToken: string) => tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });

  /** An app's sign-in (code flow with PKCE) by a browser signed in to latchkey; returns its refresh token. */
  const codeFlow = async (browser: SignedInBrowser): Promise<string> => (await codeFlowTokens(browser)).refresh_token!;
  async function codeFlowTokens(browser: SignedInBrowser): Promise<TokenAnswer['body']> {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL('/authorize', id.origin);
    url.search = new URLSearchParams({
      client_id: 'app', response_type: 'code', scope: 'openid email', redirect_uri: APP_REDIRECT_URI, state: 'st',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    }).toString();
    const step = await browser.jar.follow(url.href, (next) => !next.href.startsWith(APP_REDIRECT_URI));
    await step.response.body?.cancel();
    const code = new URL(step.response.headers.get('location') ?? '', id.origin).searchParams.get('code');
    assert.ok(code, `the app got a code (stopped at ${step.url} with ${step.response.status})`);
    const answer = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT_URI, code_verifier: verifier });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.ok(answer.body.refresh_token);
    return answer.body;
  }
  /** An ID token's lifetime in seconds (exp − iat). */
  const idTokenLifetime = (idToken: string | undefined) => {
    const claims = JSON.parse(Buffer.from(idToken?.split('.')[1] ?? '', 'base64url').toString()) as { exp: number; iat: number };
    return claims.exp - claims.iat;
  };

  /** Seconds from now until each provider row of the user expires, by model (the longest, where there are several). */
  async function lifetimesOf(userId: string): Promise<Record<string, number>> {
    const rows = await id.services.database.db.selectFrom('oidc_payloads').select(['model', 'expires_at'])
      .where('account_id', '=', userId).where('model', 'in', ['Session', 'Grant', 'RefreshToken']).where('consumed_at', 'is', null).execute();
    const out: Record<string, number> = {};
    for (const row of rows) out[row.model] = Math.max(out[row.model] ?? 0, Math.round((Number(row.expires_at) - clock.nowMs()) / 1000));
    return out;
  }
  /** Seconds from now until a refresh token's row expires (rows are keyed by the token's hash). */
  async function storedLifetimeOf(refreshToken: string): Promise<number | undefined> {
    const row = await id.services.database.db.selectFrom('oidc_payloads').select('expires_at')
      .where('model', '=', 'RefreshToken').where('id', '=', storedPayloadId('RefreshToken', refreshToken)).executeTakeFirst();
    return row ? Math.round((Number(row.expires_at) - clock.nowMs()) / 1000) : undefined;
  }
  const assertAbout = (actual: number | undefined, expected: number, what: string) =>
    assert.ok(actual !== undefined && Math.abs(actual - expected) <= 5, `${what}: ${actual} s, expected about ${expected} s`);

  it('gives a sign-in after the restart a provider session, grant and refresh token of the saved 5 minutes, and refuses a refresh after them', async () => {
    const { user, browser } = await signedInUser(id, { username: 'restarted' });
    const refreshToken = await codeFlow(browser);
    const lifetimes = await lifetimesOf(user.id);
    for (const model of ['Session', 'Grant', 'RefreshToken']) assertAbout(lifetimes[model], FIVE_MINUTES, model);

    advanceSeconds(FIVE_MINUTES + 1);
    const refused = await refresh(refreshToken);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
  });

  it('gives access and ID tokens no longer than the app\'s sign-in may last (5 minutes here, not 1 hour)', async () => {
    const { browser } = await signedInUser(id, { username: 'shorttokens' });
    const signIn = await codeFlowTokens(browser);
    assertAbout(signIn.expires_in, FIVE_MINUTES, 'access token from the code');
    assertAbout(idTokenLifetime(signIn.id_token), FIVE_MINUTES, 'ID token from the code');

    advanceSeconds(4 * 60);
    const refreshed = await refresh(signIn.refresh_token!);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assertAbout(refreshed.body.expires_in, 60, 'access token from a refresh, until the app\'s sign-in ends');
    assertAbout(idTokenLifetime(refreshed.body.id_token), 60, 'ID token from a refresh');
  });

  it('ends refresh tokens issued under a longer duration once their sign-in is older than a shortened one', async () => {
    await id.services.identity.settings.update({ sessionDuration: '720h' });
    const { browser } = await signedInUser(id, { username: 'longlived' });
    const kept = await codeFlow(browser);
    const untouched = await codeFlow(browser);
    assertAbout(await storedLifetimeOf(untouched), THIRTY_DAYS, 'a refresh token issued under 720h');

    // After an incident: from now on a sign-in lasts 5 minutes, the ones apps already hold included.
    await id.services.identity.settings.update({ sessionDuration: '5m' });
    advanceSeconds(4 * 60);
    const rotated = await refresh(kept);
    assert.equal(rotated.status, 200, 'still within the new duration');
    assertAbout(await storedLifetimeOf(rotated.body.refresh_token!), 60, 'a rotation does not outlast the app\'s sign-in');

    advanceSeconds(2 * 60);
    assertAbout(await storedLifetimeOf(untouched), THIRTY_DAYS - 6 * 60, 'the other token, as stored');
    for (const [token, which] of [[untouched, 'issued under 720h'], [rotated.body.refresh_token!, 'rotated']] as const) {
      const refused = await refresh(token);
      assert.equal(refused.status, 400, which);
      assert.equal(refused.body.error, 'invalid_grant', which);
    }
  });
});
