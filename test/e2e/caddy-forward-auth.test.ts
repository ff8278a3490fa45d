// The same stack as the nginx test (latchkey id at https://id.example, latchkey proxy from the
// guide's Step 3 flags, the Hugo demo site) behind real Caddy 2.6 with forward_auth, the way
// oauth2-proxy's documentation configures Caddy, corrected as TESTING.md says: forward_auth inside
// route {} (so it runs before file_server), {hostport} rather than {host} in the return address,
// and only headers the proxy always sends in copy_headers.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPasskeyTab, type PasskeyTab } from '../helpers/browser.ts';
import { startCaddy, type RunningCaddy } from '../helpers/caddy.ts';
import { addPasskeyFromInvitation, recordNavigations, visitSigningInIfAsked } from '../helpers/edge-browser-flow.ts';
import { edgeFetch } from '../helpers/edge-fetch.ts';
import { freePort, onFreshPorts } from '../helpers/free-port.ts';
import { ID_HOST, ID_URL, SITE_HOST, SITE_URL, startGuideStack, type GuideStack } from '../helpers/guide-stack.ts';
import { mapHostsArgs } from '../helpers/local-ca.ts';

const PRIVATE_INDEX_TEXT = /You are signed in with a passkey/;

interface CaddyTarget { port: number; httpPort: number; certFile: string; keyFile: string; idPort: number; proxyPort: number; siteRoot: string }

function caddyfile(t: CaddyTarget): string {
  const proxy = `127.0.0.1:${t.proxyPort}`;
  return `{
	admin off
	# Certificates are given per site; never touch the system trust store or port 80.
	skip_install_trust
	auto_https disable_redirects
	http_port ${t.httpPort}
	https_port ${t.port}
}

${ID_HOST}:${t.port} {
	bind 127.0.0.1
	tls ${t.certFile} ${t.keyFile}
	reverse_proxy 127.0.0.1:${t.idPort}
}

${SITE_HOST}:${t.port} {
	bind 127.0.0.1
	tls ${t.certFile} ${t.keyFile}
	root * ${t.siteRoot}
	route {
		reverse_proxy /oauth2/* ${proxy}
		forward_auth /private/* ${proxy} {
			uri /oauth2/auth
			copy_headers X-Auth-Request-User X-Auth-Request-Email Authorization
			@unauthorized status 401
			handle_response @unauthorized {
				redir * /oauth2/sign_in?rd={scheme}://{hostport}{uri}
			}
		}
		# What an upstream behind forward_auth would receive, made visible on the answer.
		header /private/* X-Seen-User "{http.request.header.X-Auth-Request-User}"
		header /private/* X-Seen-Email "{http.request.header.X-Auth-Request-Email}"
		file_server
	}
}
`;
}

describe('Caddy forward_auth in front of latchkey id and latchkey proxy', () => {
  let stack: GuideStack;
  let caddy: RunningCaddy;
  let browser: Browser;
  let port: number;
  const edge = () => ({ port, caPem: stack.ca.caPem });

  before(async () => {
    stack = await startGuideStack();
    const dir = join(stack.dir, 'caddy');
    mkdirSync(dir);
    ({ port, caddy } = await onFreshPorts(3, async () => {
      const port = await freePort();
      const text = caddyfile({
        port, httpPort: await freePort(), certFile: stack.ca.certFile, keyFile: stack.ca.keyFile,
        idPort: stack.id.port, proxyPort: stack.proxyPort, siteRoot: stack.siteRoot,
      });
      return { port, caddy: await startCaddy(dir, text, port) };
    }));
    browser = await launchBrowser({ env: { ...process.env, HOME: stack.ca.browserHome } as Record<string, string>, args: mapHostsArgs([ID_HOST, SITE_HOST], port) });
  });
  after(async () => {
    await browser?.close();
    await caddy?.stop();
    await stack?.close();
  });

  it('sends a visitor without a session to the proxy\'s sign-in with the page\'s address', async () => {
    const answer = await edgeFetch(`${SITE_URL}/private/`, edge());
    assert.equal(answer.status, 302);
    assert.doesNotMatch(answer.body, PRIVATE_INDEX_TEXT);
    assert.equal(answer.headers.location, `/oauth2/sign_in?rd=${SITE_URL}/private/`);
    const signIn = await edgeFetch(`${SITE_URL}${answer.headers.location}`, edge());
    assert.equal(signIn.status, 302);
    assert.equal(new URL(String(signIn.headers.location)).origin, ID_URL);
  });

  it('answers /healthz of the id through Caddy', async () => {
    assert.equal((await edgeFetch(`${ID_URL}/healthz`, edge())).status, 204);
  });

  describe('a friend in Chromium', () => {
    let tab: PasskeyTab;
    let navigations: string[];
    let friend: { userId: string; linkUrl: string };
    before(async () => {
      tab = await openPasskeyTab(browser);
      friend = await stack.inviteFriend('grace');
      await addPasskeyFromInvitation(tab, friend.linkUrl);
      navigations = recordNavigations(tab);
    });
    after(() => tab?.context.close());

    const sessionCookie = async () => (await tab.context.cookies(SITE_URL)).find((c) => c.name === '_oauth2_proxy');

    it('reads a public page without signing in', async () => {
      navigations.length = 0;
      const response = await tab.page.goto(`${SITE_URL}/posts/`);
      assert.equal(response?.status(), 200);
      assert.deepEqual(navigations, [`${SITE_URL}/posts/`], 'no detour through the id');
      assert.equal(await sessionCookie(), undefined);
    });

    it('signs in at the id with the passkey and comes back to the private page', async () => {
      navigations.length = 0;
      await visitSigningInIfAsked(tab, `${SITE_URL}/private/`);
      assert.ok(navigations.some((url) => url.startsWith(`${ID_URL}/login`)), `no passkey sign-in on the way: ${navigations.join(' → ')}`);
      assert.match(await tab.page.locator('body').innerText(), PRIVATE_INDEX_TEXT);
      assert.ok(await sessionCookie(), 'the proxy\'s session cookie is set');
    });

    it('hands the files the identity from the 202, not placeholder text', async () => {
      const response = await tab.page.goto(`${SITE_URL}/private/family/`);
      assert.equal(response?.status(), 200);
      const headers = await response!.allHeaders();
      assert.equal(headers['x-seen-user'], friend.userId);
      assert.equal(headers['x-seen-email'], 'grace@example.com');
    });

    it('loses access at /oauth2/sign_out: the cookie is gone and the next visit needs the OIDC round trip', async () => {
      await tab.page.goto(`${SITE_URL}/oauth2/sign_out`);
      assert.equal(tab.page.url(), `${SITE_URL}/`);
      assert.equal(await sessionCookie(), undefined);
      navigations.length = 0;
      await visitSigningInIfAsked(tab, `${SITE_URL}/private/`);
      assert.ok(navigations.some((url) => url.startsWith(`${SITE_URL}/oauth2/sign_in`)), `not sent to sign in: ${navigations.join(' → ')}`);
      assert.ok(navigations.some((url) => url.startsWith(`${ID_URL}/authorize`)), `no round trip through the id: ${navigations.join(' → ')}`);
      assert.ok(await sessionCookie(), 'a fresh session after the round trip');
    });
  });
});
