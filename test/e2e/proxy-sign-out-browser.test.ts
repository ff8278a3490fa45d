// Logout CSRF in Chromium: a page on another website (127.0.0.1, another site than localhost)
// points an <img> or an auto-submitted form at `latchkey proxy`'s /oauth2/sign_out. The session
// cookie is SameSite=None (--cookie-samesite=none --cookie-secure, which http://localhost allows),
// so a top-level POST from the other site carries it and would have its deletion accepted: only
// the proxy's own check stands between the other site and the sign-out.
// The <img> test passes without that check too: this Chromium sends no cookie at all with an
// <img> from another site (third-party cookies blocked, in a fresh or a persistent profile alike),
// as Firefox (Total Cookie Protection) and Safari do by default. It stays, as a guard for a browser
// that lets them through; the route tests (proxy-sign-out-csrf.test.ts) cover the answer itself.
import assert from 'node:assert/strict';
import { startOtherSite, type OtherSite } from '../helpers/other-site.ts';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { freePort } from '../helpers/free-port.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';

describe('sign-out asked by another website, in Chromium', () => {
  let h: ProxyHarness;
  let browser: Browser;
  /** The proxy as the browser reaches it: localhost, where a Secure cookie is allowed over http. */
  let siteOrigin: string;
  let otherSite: OtherSite;

  before(async () => {
    otherSite = await startOtherSite();
    // With --cookie-secure the proxy builds an https callback unless --redirect-url names one, as
    // oauth2-proxy does; this proxy is reached over plain http, so it is given its http callback.
    const startProxy = async () => {
      const port = await freePort();
      return startProxyHarness({ config: {
        httpAddress: { host: '127.0.0.1', port }, redirectUrl: `http://127.0.0.1:${port}/oauth2/callback`, cookie: { sameSite: 'none', secure: true },
      } });
    };
    [h, browser] = await Promise.all([startProxy(), launchBrowser()]);
    siteOrigin = `http://localhost:${new URL(h.proxyUrl).port}`;
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    otherSite?.close();
  });

  /** A fresh browser signed in to the site (the sign-in is made beside it, its cookie handed over). */
  async function signedInBrowser(): Promise<BrowserContext> {
    const { jar } = await h.signIn('ada');
    const context = await browser.newContext();
    const cookies = jar.names(h.proxyUrl).filter((name) => name.startsWith('_oauth2_proxy'));
    assert.ok(cookies.length > 0);
    await context.addCookies(cookies.map((name) => ({
      name, value: jar.get(h.proxyUrl, name)!, domain: 'localhost', path: '/', httpOnly: true, secure: true, sameSite: 'None' as const,
    })));
    return context;
  }

  // (cookies(url) would leave out a Secure cookie for an http URL, localhost or not)
  const sessionOf = async (context: BrowserContext) => (await context.cookies()).find((cookie) => cookie.domain === 'localhost' && cookie.name === '_oauth2_proxy');

  it('keeps the session when a page on another website embeds <img src=".../oauth2/sign_out">', async () => {
    const context = await signedInBrowser();
    try {
      const page = await context.newPage();
      otherSite.show(`<h1>Cute cats</h1><img src="${siteOrigin}/oauth2/sign_out" alt="">`);
      const sent = page.waitForRequest((request) => request.url().startsWith(`${siteOrigin}/oauth2/sign_out`));
      await page.goto(`${otherSite.origin}/cats`, { waitUntil: 'load' }); // load waits for the image
      await sent;
      const session = await sessionOf(context);
      assert.ok(session, 'the session cookie is still there');
      assert.equal((await h.authCheck(null, { headers: { cookie: `_oauth2_proxy=${session.value}` } })).status, 202);
    } finally {
      await context.close();
    }
  });

  it('asks when a form on another website posts to /oauth2/sign_out; its Sign out button then signs out and goes to rd', async () => {
    const context = await signedInBrowser();
    try {
      const page = await context.newPage();
      otherSite.show(`<h1>Loading…</h1><form method="post" action="${siteOrigin}/oauth2/sign_out?rd=%2Fbye"></form><script>document.forms[0].submit()</script>`);
      await page.goto(`${otherSite.origin}/form`);
      await page.waitForURL(`${siteOrigin}/oauth2/sign_out?rd=%2Fbye`);
      assert.equal(await page.locator('h1').innerText(), 'Sign out?');
      assert.ok(await sessionOf(context), 'nothing signed out yet');

      const signedOut = page.waitForResponse((response) => response.request().method() === 'POST');
      await page.getByRole('button', { name: 'Sign out' }).click();
      const answer = await signedOut;
      assert.equal(answer.status(), 302);
      assert.equal(await answer.headerValue('location'), '/bye');
      assert.equal(await sessionOf(context), undefined, 'the session cookie is gone');
    } finally {
      await context.close();
    }
  });
});
