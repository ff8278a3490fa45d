// The scale-out topology (two `latchkey id`, two `latchkey proxy`, PostgreSQL, Redis, real nginx
// round-robin) driven by Chromium with a virtual authenticator: a friend adds a passkey from an
// invitation and signs in to /private/ while nginx spreads the requests over every instance; the
// sign-in survives losing the instances that started it; a sign-out reaching one proxy (directly,
// or as the id's back-channel logout) is honoured by the other.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPasskeyTab, type PasskeyTab } from '../helpers/browser.ts';
import { addPasskeyFromInvitation, recordNavigations, visitSigningInIfAsked } from '../helpers/edge-browser-flow.ts';
import { type ScaleOutStack, startScaleOutStack } from '../helpers/scale-out-stack.ts';

/** One request an instance finished: which instance, the path, the cookie it got, the status it sent. */
interface Served { kind: 'id' | 'proxy'; index: number; path: string; cookie: string; status: number }

const PRIVATE_TEXT = /members only/;

describe('scale-out in Chromium: two ids and two proxies behind nginx round-robin', () => {
  let stack: ScaleOutStack;
  let browser: Browser;
  const served: Served[] = [];
  const tabs: PasskeyTab[] = [];
  let friends = 0;

  before(async () => {
    stack = await startScaleOutStack();
    const watch = (kind: Served['kind'], index: number) => (request: IncomingMessage, response: ServerResponse) => {
      response.on('finish', () => served.push({ kind, index, path: request.url ?? '', cookie: request.headers.cookie ?? '', status: response.statusCode }));
    };
    stack.ids.forEach((id, i) => id.server.app.server.on('request', watch('id', i)));
    stack.proxies.forEach((proxy, i) => proxy.server.app.server.on('request', watch('proxy', i)));
    browser = await launchBrowser();
  });
  after(async () => {
    for (const tab of tabs) await tab.context.close();
    await browser?.close();
    await stack?.close();
  });

  const privateUrl = () => `${stack.siteOrigin}/private/`;

  /** A new friend in a fresh context: invited by link, with a passkey, signed out of the id again. */
  async function invitedFriend(): Promise<PasskeyTab> {
    const { identity } = stack.ids[0].server.services;
    const name = `friend${++friends}`;
    const user = await identity.users.create({ username: name, email: `${name}@example.com`, emailVerified: true });
    const { token } = await identity.links.issue('signin', user.id, 600);
    const tab = await openPasskeyTab(browser);
    tabs.push(tab);
    await addPasskeyFromInvitation(tab, `${stack.idOrigin}/lc/${token}`, stack.idOrigin);
    return tab;
  }

  const sessionCookie = async (tab: PasskeyTab) => {
    const cookie = (await tab.context.cookies(stack.siteOrigin)).find((c) => c.name === '_oauth2_proxy');
    assert.ok(cookie, 'the proxy set its session cookie');
    return cookie;
  };

  /**
   * Puts the saved session cookie back into the browser and opens /private/, until both proxies
   * have checked it. Returns the navigations of each visit.
   */
  async function visitWithSavedCookie(tab: PasskeyTab, saved: Awaited<ReturnType<typeof sessionCookie>>): Promise<string[][]> {
    const from = served.length;
    const checks = () => served.slice(from).filter((s) => s.kind === 'proxy' && s.path.startsWith('/oauth2/auth') && s.cookie.includes(saved.value));
    const checkedBy = () => new Set(checks().map((s) => s.index));
    const navigations = recordNavigations(tab);
    const visits: string[][] = [];
    for (let attempt = 0; attempt < 4 && checkedBy().size < 2; attempt++) {
      // nginx's round robin alternates: when the proxy that has not checked the cookie yet served
      // the last request, one request of our own moves it along so the visit's check lands there.
      const unchecked = [0, 1].find((i) => !checkedBy().has(i));
      if (served.findLast((s) => s.kind === 'proxy')?.index === unchecked) await (await fetch(`${stack.siteOrigin}/oauth2/auth`)).arrayBuffer();
      await tab.context.addCookies([saved]);
      navigations.length = 0;
      // A new address each time: Chromium may otherwise show /private/ from its cache (nginx sends
      // Last-Modified and no Cache-Control) without asking nginx at all.
      await tab.page.goto(`${privateUrl()}?visit=${attempt}`);
      visits.push([...navigations]);
    }
    assert.deepEqual([...checkedBy()].sort(), [0, 1], 'both proxies checked the saved cookie');
    const answers = checks().map((s) => s.status);
    assert.ok(answers.every((status) => status === 401), `every proxy refused it: ${answers.join(', ')}`);
    return visits;
  }

  it('signs a friend in from an invitation to /private/ while every instance serves part of the flow', async () => {
    const before = [...stack.ids, ...stack.proxies].map((instance) => instance.served);
    const tab = await invitedFriend();
    const navigations = recordNavigations(tab);
    await visitSigningInIfAsked(tab, privateUrl(), stack.idOrigin);
    assert.ok(navigations.some((url) => url.startsWith(`${stack.idOrigin}/login`)), `signed in at the id: ${navigations.join(' → ')}`);
    assert.match(await tab.page.locator('body').innerText(), PRIVATE_TEXT);
    for (let i = 0; i < 3; i++) {
      navigations.length = 0;
      assert.equal((await tab.page.goto(`${privateUrl()}?visit=${i}`))?.status(), 200);
      assert.equal(navigations.length, 1, 'later visits need no sign-in');
    }
    const counts = [...stack.ids, ...stack.proxies].map((instance, i) => instance.served - before[i]);
    assert.ok(counts.every((count) => count > 0), `requests served by id A, id B, proxy A, proxy B: ${counts.join(', ')}`);
  });

  it('sends the browser to sign in at both proxies once it signed out at one of them', async () => {
    const tab = await invitedFriend();
    await visitSigningInIfAsked(tab, privateUrl(), stack.idOrigin);
    const saved = await sessionCookie(tab);
    const signOutsBefore = served.filter((s) => s.path.startsWith('/oauth2/sign_out')).length;
    await tab.page.goto(`${stack.siteOrigin}/oauth2/sign_out`);
    assert.equal(served.filter((s) => s.path.startsWith('/oauth2/sign_out')).length, signOutsBefore + 1, 'one proxy handled the sign-out');
    const visits = await visitWithSavedCookie(tab, saved);
    for (const visit of visits) assert.ok(visit.some((url) => url.startsWith(`${stack.siteOrigin}/oauth2/start`)), `went to sign in: ${visit.join(' → ')}`);
  });

  it('sends the browser to the id\'s sign-in page at both proxies once the friend signed out at the id', async () => {
    const tab = await invitedFriend();
    await visitSigningInIfAsked(tab, privateUrl(), stack.idOrigin);
    const saved = await sessionCookie(tab);
    await tab.page.goto(`${stack.idOrigin}/account`);
    await tab.page.getByRole('button', { name: 'Sign out' }).click();
    await tab.page.waitForURL(`${stack.idOrigin}/login`);
    // The id's back-channel logout went through nginx to one proxy; the other learns it from Redis.
    const visits = await visitWithSavedCookie(tab, saved);
    for (const visit of visits) assert.ok(visit.at(-1)?.startsWith(`${stack.idOrigin}/login`), `ended on the id's sign-in page: ${visit.join(' → ')}`);
  });

  it('finishes the sign-in when the id and the proxy that started it stop before the passkey assertion is posted', async () => {
    const tab = await invitedFriend();
    const from = served.length;
    const servedSince = (kind: Served['kind'], path: string) => served.slice(from).filter((s) => s.kind === kind && s.path.startsWith(path));
    await tab.page.route('**/api/webauthn/login/finish', async (route) => {
      // The options were fetched and the authenticator signed them; now the instances that began go.
      const [challengeIssuer] = servedSince('id', '/api/webauthn/login/start');
      const [signInStarter] = servedSince('proxy', '/oauth2/start');
      try {
        if (challengeIssuer) await stack.ids[challengeIssuer.index].stop();
        if (signInStarter) await stack.proxies[signInStarter.index].stop();
      } finally {
        await route.continue();
      }
    });
    await visitSigningInIfAsked(tab, privateUrl(), stack.idOrigin);
    assert.match(await tab.page.locator('body').innerText(), PRIVATE_TEXT);
    const [challengeIssuer] = servedSince('id', '/api/webauthn/login/start');
    const [finisher] = servedSince('id', '/api/webauthn/login/finish');
    const [signInStarter] = servedSince('proxy', '/oauth2/start');
    const [callback] = servedSince('proxy', '/oauth2/callback');
    assert.notEqual(finisher.index, challengeIssuer.index, 'the other id finished the passkey ceremony');
    assert.notEqual(callback.index, signInStarter.index, 'the other proxy took the callback');
    assert.equal(stack.ids.filter((id) => id.running).length, 1);
    assert.equal(stack.proxies.filter((proxy) => proxy.running).length, 1);
  });
});
