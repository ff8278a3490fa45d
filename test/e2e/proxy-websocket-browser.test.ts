// A WebSocket from Chromium through `latchkey proxy` to an application (--proxy-websockets): the
// browser sends the session cookie with the opening handshake by itself, and the proxy lets the
// WebSocket through only with it. The page comes from a --skip-auth-route, so the same page is
// tried with and without a session.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import { startWebSocketEcho } from '../helpers/websocket-echo.ts';

describe('a WebSocket from Chromium through latchkey proxy', () => {
  let h: ProxyHarness;
  let echo: Awaited<ReturnType<typeof startWebSocketEcho>>;
  let browser: Browser;

  before(async () => {
    echo = await startWebSocketEcho();
    [h, browser] = await Promise.all([
      startProxyHarness({ config: { upstreams: [{ kind: 'http', url: new URL(`${echo.url}/app/`) }], skipAuthRoutes: [{ method: 'GET', pathPattern: /^\/app\/public\// }] } }),
      launchBrowser(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    await echo?.close();
  });

  /** Opens the chat page in a fresh context with `cookies` and returns what it shows once the WebSocket has answered or closed. */
  async function chatResult(cookies: { name: string; value: string }[]): Promise<string> {
    const context = await browser.newContext();
    try {
      if (cookies.length) await context.addCookies(cookies.map((cookie) => ({ ...cookie, url: h.proxyUrl })));
      const page = await context.newPage();
      await page.goto(`${h.proxyUrl}/app/public/page`);
      await page.waitForFunction(() => document.getElementById('out')?.textContent !== 'waiting');
      return (await page.textContent('#out')) ?? '';
    } finally {
      await context.close();
    }
  }

  it('connects with a signed-in session: the handshake carries the cookie and the messages pass both ways', async () => {
    const { jar } = await h.signIn('ada');
    const cookies = jar.header(h.proxyUrl).split('; ').map((pair) => ({ name: pair.slice(0, pair.indexOf('=')), value: pair.slice(pair.indexOf('=') + 1) }));
    assert.ok(cookies.some((cookie) => cookie.name === '_oauth2_proxy'));
    assert.equal(await chatResult(cookies), 'echo: hello from the browser');
    const handshake = echo.seen.filter((seen) => seen.upgrade).at(-1)!;
    assert.equal(handshake.url, '/app/chat');
    assert.equal(handshake.headers['x-forwarded-user'], 'ada', 'the application learns who it is');
    assert.match(String(handshake.headers.origin), /^http:\/\/127\.0\.0\.1:/, "the browser's Origin reaches the application, which may check it");
  });

  it('is refused without a session: the WebSocket closes and the application never sees the handshake', async () => {
    const upgradesBefore = echo.seen.filter((seen) => seen.upgrade).length;
    assert.equal(await chatResult([]), 'closed 1006');
    assert.equal(echo.seen.filter((seen) => seen.upgrade).length, upgradesBefore);
  });
});
