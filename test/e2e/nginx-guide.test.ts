// The deployment guide's Step 4 nginx configuration, run by real nginx, in front of `latchkey id`
// (Pocket ID's role) and `latchkey proxy` started from the guide's Step 3 flags (oauth2-proxy's
// role), with a friend signing in by passkey in Chromium over production-shaped HTTPS.
//
// The nginx configuration is the guide's, changed only in host names, listen ports, certificate
// paths, upstream ports and root/alias paths (test/helpers/guide-nginx.ts checks each edit), plus
// the two lines of withSignInRedirect() without which nobody could sign in through it.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPasskeyTab, type PasskeyTab } from '../helpers/browser.ts';
import { startNginx, writeNginxConf } from '../helpers/deploy-tools.ts';
import { addPasskeyFromInvitation, recordNavigations, visitSigningInIfAsked } from '../helpers/edge-browser-flow.ts';
import { edgeFetch } from '../helpers/edge-fetch.ts';
import { freePort, onFreshPorts } from '../helpers/free-port.ts';
import { guideNginxConfig, withPrivatePrefixPriority, withSignInRedirect, withXmlLocation } from '../helpers/guide-nginx.ts';
import { ID_HOST, ID_URL, SITE_HOST, SITE_URL, startGuideStack, type GuideStack } from '../helpers/guide-stack.ts';
import { mapHostsArgs } from '../helpers/local-ca.ts';

type Nginx = Awaited<ReturnType<typeof startNginx>>;

// Words of the demo site's pages: the private section's index and its (Hugo-generated) feed.
const PRIVATE_INDEX_TEXT = /You are signed in with a passkey/;
const PRIVATE_FEED_TEXT = /<rss[\s\S]*spare house key/;

describe('the guide\'s nginx configuration in front of latchkey id and latchkey proxy', () => {
  let stack: GuideStack;
  const running: Nginx[] = [];
  let browser: Browser;

  /** Starts nginx with `edit(guide config)` on a free port (another if that one is taken meanwhile); returns the port. */
  async function startGuideNginx(name: string, edit: (text: string) => string): Promise<number> {
    const dir = join(stack.dir, `nginx-${name}`);
    mkdirSync(dir);
    return onFreshPorts(3, async () => {
      const port = await freePort();
      const text = guideNginxConfig({
        port, certFile: stack.ca.certFile, keyFile: stack.ca.keyFile, idHost: ID_HOST, siteHost: SITE_HOST,
        idPort: stack.id.port, proxyPort: stack.proxyPort, siteRoot: stack.siteRoot,
      }, edit(withSignInRedirect()));
      writeNginxConf(dir, text);
      running.push(await startNginx(dir, port));
      return port;
    });
  }

  let port: number;
  const edge = () => ({ port, caPem: stack.ca.caPem });

  before(async () => {
    stack = await startGuideStack();
    port = await startGuideNginx('guide', (text) => text);
    browser = await launchBrowser({ env: { ...process.env, HOME: stack.ca.browserHome } as Record<string, string>, args: mapHostsArgs([ID_HOST, SITE_HOST], port) });
  });
  after(async () => {
    await browser?.close();
    for (const nginx of running) await nginx.stop();
    await stack?.close();
  });

  describe('the guide\'s validation checklist', () => {
    it('answers /healthz on the id with 204', async () => {
      assert.equal((await edgeFetch(`${ID_URL}/healthz`, edge())).status, 204);
    });

    it('publishes a discovery document whose issuer is the public https address', async () => {
      const answer = await edgeFetch(`${ID_URL}/.well-known/openid-configuration`, edge());
      assert.equal(answer.status, 200);
      const metadata = JSON.parse(answer.body) as Record<string, string>;
      assert.equal(metadata.issuer, ID_URL);
      assert.equal(metadata.authorization_endpoint, `${ID_URL}/authorize`);
    });

    // The guide's checks use `curl -I`, so HEAD requests where it does.
    it('answers /oauth2/auth on the proxy with 401 without a session', async () => {
      const response = await fetch(`${stack.proxy.url}/oauth2/auth`, { method: 'HEAD' });
      assert.equal(response.status, 401);
    });

    it('does not serve /private/ without a session, but redirects to sign in', async () => {
      const answer = await edgeFetch(`${SITE_URL}/private/`, edge(), {}, 'HEAD');
      assert.equal(answer.status, 302);
      assert.match(String(answer.headers.location), new RegExp(`^${ID_URL}/authorize\\?`));
    });

    it('redirects /oauth2/sign_in to the provider', async () => {
      const answer = await edgeFetch(`${SITE_URL}/oauth2/sign_in`, edge(), {}, 'HEAD');
      assert.equal(answer.status, 302);
      const location = new URL(String(answer.headers.location));
      assert.equal(location.origin, ID_URL);
      assert.equal(location.searchParams.get('client_id'), 'pocket-id-client');
      assert.equal(location.searchParams.get('redirect_uri'), `${SITE_URL}/oauth2/callback`);
    });
  });

  describe('a friend in Chromium', () => {
    let tab: PasskeyTab;
    let navigations: string[];
    before(async () => {
      tab = await openPasskeyTab(browser);
      const { linkUrl } = await stack.inviteFriend('ada');
      await addPasskeyFromInvitation(tab, linkUrl);
      navigations = recordNavigations(tab);
    });
    after(() => tab?.context.close());

    const sessionCookie = async () => (await tab.context.cookies(SITE_URL)).find((c) => c.name === '_oauth2_proxy');

    it('reads a public page without signing in', async () => {
      navigations.length = 0;
      const response = await tab.page.goto(`${SITE_URL}/`);
      assert.deepEqual(navigations, [`${SITE_URL}/`], 'no detour through the id');
      assert.equal(response?.status(), 200);
      assert.equal(tab.page.url(), `${SITE_URL}/`);
      assert.match(await tab.page.title(), /latchkey demo/);
      assert.equal(await sessionCookie(), undefined);
    });

    it('is sent to sign in at the id with the passkey and comes back to the private page', async () => {
      navigations.length = 0;
      await visitSigningInIfAsked(tab, `${SITE_URL}/private/`);
      assert.ok(navigations.some((url) => url.startsWith(`${ID_URL}/login`)), `no passkey sign-in on the way: ${navigations.join(' → ')}`);
      assert.match(await tab.page.locator('body').innerText(), PRIVATE_INDEX_TEXT);
      const cookie = await sessionCookie();
      assert.ok(cookie, 'the proxy\'s session cookie is set');
      assert.equal(cookie.secure, true);
      assert.equal(cookie.httpOnly, true);
    });

    it('opens further private pages without another sign-in', async () => {
      navigations.length = 0;
      const response = await tab.page.goto(`${SITE_URL}/private/family/`);
      assert.equal(response?.status(), 200);
      assert.deepEqual(navigations, [`${SITE_URL}/private/family/`]);
    });

    it('loses access at /oauth2/sign_out: the cookie is gone and the next visit needs the OIDC round trip', async () => {
      await tab.page.goto(`${SITE_URL}/oauth2/sign_out`);
      assert.equal(await sessionCookie(), undefined);
      navigations.length = 0;
      // The id still has its own session, so it sends the browser straight back, but only through it.
      await visitSigningInIfAsked(tab, `${SITE_URL}/private/`);
      assert.ok(navigations.some((url) => url.startsWith(`${ID_URL}/authorize`)), `no round trip through the id: ${navigations.join(' → ')}`);
      assert.ok(navigations.some((url) => url.startsWith(`${SITE_URL}/oauth2/callback`)));
      assert.ok(await sessionCookie(), 'a fresh session after the round trip');
    });
  });

  describe('a regex location added to the guide\'s configuration', () => {
    it('serves a private feed without auth when the private location is a plain prefix (the guide\'s bug)', async () => {
      const leaky = await startGuideNginx('regex', (text) => withXmlLocation(text, stack.siteRoot));
      const answer = await edgeFetch(`${SITE_URL}/private/index.xml`, { port: leaky, caPem: stack.ca.caPem });
      assert.equal(answer.status, 200);
      assert.match(answer.body, PRIVATE_FEED_TEXT);
    });

    it('keeps the private feed behind sign-in once the private location is ^~', async () => {
      const fixed = await startGuideNginx('regex-fixed', (text) => withPrivatePrefixPriority(withXmlLocation(text, stack.siteRoot)));
      const feed = await edgeFetch(`${SITE_URL}/private/index.xml`, { port: fixed, caPem: stack.ca.caPem });
      assert.equal(feed.status, 302);
      assert.doesNotMatch(feed.body, PRIVATE_FEED_TEXT);
      const publicFeed = await edgeFetch(`${SITE_URL}/index.xml`, { port: fixed, caPem: stack.ca.caPem });
      assert.equal(publicFeed.status, 200, 'the regex location still serves public feeds');
    });
  });
});
