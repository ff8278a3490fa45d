// Two identity providers and two proxies behind real nginx round-robin, sharing PostgreSQL and
// Redis: a passkey sign-in to a private page works whichever instance answers each step, survives
// losing an instance midway, and a sign-out at one instance is honoured by the others.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { idBrowser } from '../helpers/id-browser.ts';
import { type ScaleOutStack, startScaleOutStack } from '../helpers/scale-out-stack.ts';

type Browser = ReturnType<typeof idBrowser>;

describe('scale-out: two ids and two proxies behind nginx round-robin', () => {
  let stack: ScaleOutStack;
  let username = 0;
  before(async () => { stack = await startScaleOutStack(); });
  after(() => stack?.close());

  /** An invited user with a passkey, signed out again (every step through nginx). */
  async function enrolledBrowser(): Promise<Browser> {
    const { identity } = stack.ids[0].server.services;
    const name = `member${++username}`;
    const user = await identity.users.create({ username: name, email: `${name}@example.com`, emailVerified: true });
    const { token } = await identity.links.issue('signin', user.id, 600);
    const browser = idBrowser(stack.idOrigin);
    assert.equal((await browser.useOneTimeLink(token)).status, 303, 'the one-time link signs in');
    await browser.page('/account');
    const registered = await browser.registerPasskey('Laptop');
    assert.equal(registered.response.status, 200, JSON.stringify(registered.body));
    await browser.page('/account');
    assert.equal((await browser.form('/logout', {})).status, 303);
    return browser;
  }

  /**
   * Opens /private/ on the site and signs in with the passkey when sent to the provider.
   * `midway` runs after the passkey ceremony started, before it is finished.
   */
  async function openPrivatePage(browser: Browser, midway: () => Promise<void> = async () => {}) {
    const site = stack.siteOrigin;
    const toSignIn = (url: URL) => url.origin === stack.idOrigin && url.pathname === '/login';
    let step = await browser.jar.follow(`${site}/private/`, (next) => !toSignIn(next));
    const location = step.response.headers.get('location');
    if (location && toSignIn(new URL(location, step.url))) {
      await step.response.body?.cancel();
      const signIn = new URL(location, step.url);
      await browser.page(signIn.pathname + signIn.search);
      const start = await browser.json('/api/webauthn/login/start', {});
      assert.equal(start.response.status, 200);
      await midway();
      const assertion = await browser.authenticator.login(start.body.options as never);
      const finish = await browser.json('/api/webauthn/login/finish', { flowId: start.body.flowId, response: assertion });
      assert.equal(finish.response.status, 200, JSON.stringify(finish.body));
      step = await browser.jar.follow(new URL(String(finish.body.redirectTo), stack.idOrigin).href);
    }
    return { status: step.response.status, url: step.url, body: await step.response.text() };
  }

  /** GET /private/ with exactly this cookie header, as many times as there are proxies and more. */
  async function privateStatuses(cookie: string, times = 6): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < times; i++) {
      const response = await fetch(`${stack.siteOrigin}/private/`, { headers: { cookie }, redirect: 'manual' });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    return statuses;
  }

  const siteCookie = (browser: Browser) => browser.jar.cookieHeader(new URL(`${stack.siteOrigin}/private/`));

  it('signs in with a passkey while consecutive requests land on different instances', async () => {
    const servedBefore = [...stack.ids, ...stack.proxies].map((i) => i.served);
    const browser = await enrolledBrowser();
    const page = await openPrivatePage(browser);
    assert.equal(page.status, 200);
    assert.match(page.body, /members only/);
    assert.deepEqual(await privateStatuses(siteCookie(browser)), Array(6).fill(200), 'the session works at both proxies');
    const served = [...stack.ids, ...stack.proxies].map((instance, i) => instance.served - servedBefore[i]);
    assert.ok(served.every((count) => count > 0), `every instance served requests (id A, id B, proxy A, proxy B): ${served.join(', ')}`);
  });

  it('ends the proxy session everywhere when the user signs out through one proxy', async () => {
    const browser = await enrolledBrowser();
    assert.equal((await openPrivatePage(browser)).status, 200);
    const saved = siteCookie(browser);
    const signOut = await browser.jar.fetch(`${stack.siteOrigin}/oauth2/sign_out`);
    assert.equal(signOut.status, 302);
    assert.deepEqual(await privateStatuses(saved), Array(6).fill(302), 'a saved copy of the cookie is refused at every proxy');
  });

  it('closes the private pages at every proxy when the user signs out at the identity provider', async () => {
    const browser = await enrolledBrowser();
    assert.equal((await openPrivatePage(browser)).status, 200);
    const cookie = siteCookie(browser);
    await browser.page('/account');
    assert.equal((await browser.form('/logout', {})).status, 303);
    // The provider's back-channel logout reached one proxy through nginx; the others learn it from Redis.
    assert.deepEqual(await privateStatuses(cookie), Array(6).fill(302));
  });

  it('finishes a sign-in when one id and one proxy instance stop midway', async () => {
    const browser = await enrolledBrowser();
    const page = await openPrivatePage(browser, async () => {
      await stack.ids[0].stop();
      await stack.proxies[0].stop();
    });
    assert.equal(page.status, 200);
    assert.match(page.body, /members only/);
    assert.deepEqual(await privateStatuses(siteCookie(browser), 3), [200, 200, 200], 'the surviving proxy keeps serving the session');
  });
});
