// The split deployment as production runs it, set up by an admin in Chromium: real nginx with the
// configuration `latchkey generate nginx` prints, terminating TLS for https://id.example and
// https://agents.example (a local CA the browser trusts; --host-resolver-rules maps both names to
// loopback, so URLs carry no port), in front of `latchkey id` and of `latchkey proxy` started with
// the flags of the proxy unit `latchkey generate systemd` prints for the same deployment, and a
// Hugo build of the demo site with /private/ (any signed-in user) and /private/family/=family.
//
// The guide's End-to-End Flow with its Steps 6 and 7 done by the admin in the console: the admin
// registers a passkey from the setup link, creates the groups and the OIDC client (allowed group
// friends) and copies its client ID and secret into the proxy's configuration, then invites friends
// with one-time links. Then the guide's Validation Checklist, sign-out at the id, and the rollback.
//
// One change to the generated files: nginx listens on a free loopback port instead of 443 (the
// browser's host rules send 443 there), the way a port forward would. Nothing else is edited.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { loadProxyConfig } from '../../src/config/proxy-config.ts';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { generateNginxPublicConfig } from '../../src/deploy/nginx-public-config.ts';
import { planFromArgs, type DeploymentPlan } from '../../src/deploy/plan.ts';
import { generateSystemdUnits } from '../../src/deploy/systemd-units.ts';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.ts';
import { createFirstAdminInBrowser, launchBrowser, openPasskeyTab, passkeysIn, type PasskeyTab } from '../helpers/browser.ts';
import { nginxTest, startNginx, writeNginxConf } from '../helpers/deploy-tools.ts';
import { addPasskeyFromInvitation, recordNavigations, visitSigningInIfAsked } from '../helpers/edge-browser-flow.ts';
import { edgeFetch } from '../helpers/edge-fetch.ts';
import { freePort, onFreshPorts } from '../helpers/free-port.ts';
import { replaceExactly } from '../helpers/guide-nginx.ts';
import { ID_HOST, ID_URL, SITE_HOST, SITE_URL } from '../helpers/guide-stack.ts';
import { buildHugoSite } from '../helpers/hugo-site.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';
import { makeLocalCa, mapHostsArgs, type LocalCa } from '../helpers/local-ca.ts';

type Nginx = Awaited<ReturnType<typeof startNginx>>;

// Words of the demo site's pages (demo/content/private/…).
const PRIVATE_INDEX_TEXT = /You are signed in with a passkey/;
const FAMILY_TEXT = /Grandma Rosalind/;

/** `latchkey generate nginx` as the operator would run it, plus the flags that keep every path in the test's folder. */
function generateArgs(t: { dir: string; ca: LocalCa; siteRoot: string; idPort: number; proxyPort: number }, protect = true): string[] {
  return [
    '--site-host', SITE_HOST, '--id-host', ID_HOST, ...(protect ? ['--protect', '/private/', '--protect', '/private/family/=family'] : []),
    '--site-root', t.siteRoot, '--tls-cert', t.ca.certFile, '--tls-key', t.ca.keyFile,
    '--id-upstream', `127.0.0.1:${t.idPort}`, '--proxy-upstream', `127.0.0.1:${t.proxyPort}`,
    '--access-log', join(t.dir, 'latchkey-access.log'), '--default-access-log', join(t.dir, 'access.log'), '--listen-address', '127.0.0.1',
  ];
}

/** The one edit: nginx binds free loopback ports where the generated file says 443 and 80. */
function onLocalPorts(text: string, ports: { https: number; http: number }, httpsServers: number): string {
  const https = replaceExactly(text, 'listen 127.0.0.1:443 ssl http2;', `listen 127.0.0.1:${ports.https} ssl http2;`, httpsServers);
  return replaceExactly(https, 'listen 127.0.0.1:80;', `listen 127.0.0.1:${ports.http};`);
}

/** The proxy's command line from the generated latchkey-proxy.service, its credentials in `dir`. */
function proxyArgvFromUnits(units: string, credentialsDir: string): string[] {
  const unit = units.split(/^# file: /m).find((part) => part.startsWith('/etc/systemd/system/latchkey-proxy.service'));
  assert.ok(unit, 'no latchkey-proxy.service in the generated units');
  const execStart = /^ExecStart=((?:.*\\\n)*.*)$/m.exec(unit)?.[1];
  assert.ok(execStart, 'no ExecStart in latchkey-proxy.service');
  // systemd's word splitting, as far as the generated units use it: a double-quoted argument is one.
  const words = execStart.replace(/\\\n/g, ' ').trim().match(/"[^"]*"|\S+/g) ?? [];
  const [program, command, ...args] = words.map((word) => word.replace(/^"(.*)"$/, '$1'));
  assert.match(program, /\/bin\/latchkey$/);
  assert.equal(command, 'proxy');
  // %d is systemd's credentials directory (LoadCredential=)
  return args.map((arg) => arg.replaceAll('%d/', `${credentialsDir}/`));
}

describe('the split deployment (generated nginx, latchkey id, latchkey proxy) set up by an admin in Chromium', () => {
  let dir: string;
  let ca: LocalCa;
  let siteRoot: string;
  let id: IdServer;
  let proxyPort: number;
  let plan: DeploymentPlan;
  let httpsPort: number;
  let proxy: ProxyServer | undefined;
  let browser: Browser;
  const nginxes: Nginx[] = [];
  const tabs: PasskeyTab[] = [];
  const edge = () => ({ port: httpsPort, caPem: ca.caPem });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-split-'));
    ca = makeLocalCa(join(dir, 'tls'), [ID_HOST, SITE_HOST]);
    siteRoot = buildHugoSite(join(dir, 'site'), `${SITE_URL}/`);
    // The guide's Step 2, corrected: APP_URL is the public https address; only the edge is trusted.
    id = await startIdServer({ APP_URL: ID_URL, TRUST_PROXY: '127.0.0.1' });
    // The proxy starts once the admin has created its client; nginx and the client need its address now.
    proxyPort = await freePort();
    plan = planFromArgs(generateArgs({ dir, ca, siteRoot, idPort: id.port, proxyPort }));
    const nginxDir = join(dir, 'nginx');
    mkdirSync(nginxDir);
    httpsPort = await onFreshPorts(3, async () => {
      const ports = { https: await freePort(), http: await freePort() };
      writeNginxConf(nginxDir, onLocalPorts(generateNginxConfig(plan), ports, 2));
      nginxes.push(await startNginx(nginxDir, ports.https));
      return ports.https;
    });
    browser = await launchBrowser({ env: { ...process.env, HOME: ca.browserHome } as Record<string, string>, args: mapHostsArgs([ID_HOST, SITE_HOST], httpsPort) });
  });
  after(async () => {
    for (const tab of tabs) await tab.context.close();
    await browser?.close();
    for (const nginx of nginxes) await nginx.stop();
    await proxy?.close();
    await id?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function newTab(): Promise<PasskeyTab> {
    const tab = await openPasskeyTab(browser);
    tabs.push(tab);
    return tab;
  }

  let admin: PasskeyTab;
  let clientId: string;
  let clientSecret: string;

  describe('the admin (the guide\'s Steps 6 and 7, in the console)', () => {
    it('follows the setup link at https://id.example and registers a passkey', async () => {
      admin = await newTab();
      const { token } = await id.services.identity.setup.issueLink();
      await createFirstAdminInBrowser(admin, { idOrigin: ID_URL, setupToken: token, username: 'root', email: 'root@example.com' });
      assert.equal(await passkeysIn(admin), 1);
    });

    it('creates the groups friends and family', async () => {
      const { page } = admin;
      for (const name of ['friends', 'family']) {
        await page.goto(`${ID_URL}/admin/groups`);
        await page.getByLabel('Name', { exact: true }).fill(name);
        await page.getByRole('button', { name: 'Create group' }).click();
        await page.waitForURL(`${ID_URL}/admin/groups?notice=created`);
      }
      const names = await page.locator('tbody th[scope=row] code').allInnerTexts();
      assert.deepEqual(names.sort(), ['family', 'friends']);
    });

    it('adds the site as an app for the group friends and is shown its client ID and secret once', async () => {
      const { page } = admin;
      await page.goto(`${ID_URL}/admin/clients/new`);
      await page.getByLabel('Name', { exact: true }).fill('agents.example');
      await page.getByLabel('Redirect URIs').fill(`${SITE_URL}/oauth2/callback`);
      await page.getByLabel(/Addresses to return to after sign-out/).fill(`${SITE_URL}/`);
      // The proxy listens on loopback next to the id, as in the generated systemd units.
      await page.getByLabel(/Back-channel logout URI/).fill(`http://127.0.0.1:${proxyPort}/oauth2/backchannel-logout`);
      await page.getByLabel('Only members of these groups:').check();
      await page.getByLabel('friends', { exact: true }).check();
      await page.getByRole('button', { name: 'Create app' }).click();
      await page.waitForURL(/\/admin\/clients\/[^/]+\/credentials\?reveal=/);
      clientId = (await page.locator('#setup-client-id').innerText()).trim();
      clientSecret = (await page.locator('#setup-secret').innerText()).trim();
      assert.match(clientId, /^[\w.~-]{8,}$/);
      assert.ok(clientSecret.length >= 32, `a strong secret: ${clientSecret}`);
      assert.equal((await page.locator('#setup-issuer').innerText()).trim(), ID_URL);
      // Shown once: opening the page again no longer shows it.
      await page.reload();
      assert.equal(await page.locator('#setup-secret').count(), 0);
    });

    it('starts latchkey proxy with the generated unit\'s flags and the copied client ID and secret', async () => {
      const credentials = join(dir, 'credentials');
      mkdirSync(credentials, { mode: 0o700 });
      writeFileSync(join(credentials, 'client_secret'), `${clientSecret}\n`, { mode: 0o600 });
      writeFileSync(join(credentials, 'cookie_secret'), randomBytes(32).toString('base64url'), { mode: 0o600 });
      const argv = proxyArgvFromUnits(generateSystemdUnits({ ...plan, clientId }), credentials);
      for (const flag of [`--oidc-internal-url=http://127.0.0.1:${id.port}`, '--set-xauthrequest=true', '--reverse-proxy=true', `--client-id=${clientId}`])
        assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);
      // latchkey-only and quiet; changes no behaviour
      const config = loadProxyConfig({ argv: [...argv, '--log-level=warn'], env: {} });
      assert.equal('port' in config.httpAddress ? config.httpAddress.port : null, proxyPort);
      proxy = await createProxyServer(config);
      await proxy.listen();
      await proxy.runtime.oidc.discover();
    });
  });

  describe('the guide\'s Validation Checklist against the running stack', () => {
    it('answers /healthz at https://id.example with 204', async () => {
      assert.equal((await edgeFetch(`${ID_URL}/healthz`, edge())).status, 204);
    });

    it('publishes discovery with the issuer https://id.example and every endpoint on it over https', async () => {
      const answer = await edgeFetch(`${ID_URL}/.well-known/openid-configuration`, edge());
      assert.equal(answer.status, 200);
      const metadata = JSON.parse(answer.body) as Record<string, unknown>;
      assert.equal(metadata.issuer, ID_URL);
      const endpoints = Object.entries(metadata).filter(([key]) => key.endsWith('_endpoint') || key === 'jwks_uri');
      assert.ok(endpoints.length >= 5, `endpoints: ${endpoints.map(([key]) => key).join(', ')}`);
      for (const [key, value] of endpoints) assert.ok(String(value).startsWith(`${ID_URL}/`), `${key}: ${String(value)}`);
    });

    // The guide's `curl -I http://localhost:4180/oauth2/auth`: HEAD, straight to the proxy.
    it('answers /oauth2/auth on the proxy with 401 without a session', async () => {
      const response = await fetch(`http://127.0.0.1:${proxyPort}/oauth2/auth`, { method: 'HEAD' });
      assert.equal(response.status, 401);
    });

    it('does not serve /private/ without a session but redirects to sign in at the id', async () => {
      const answer = await edgeFetch(`${SITE_URL}/private/`, edge(), {}, 'HEAD');
      assert.equal(answer.status, 302);
      assert.match(String(answer.headers.location), new RegExp(`^${ID_URL}/authorize\\?`));
    });

    it('redirects /oauth2/sign_in to the provider with the admin\'s client', async () => {
      const answer = await edgeFetch(`${SITE_URL}/oauth2/sign_in`, edge(), {}, 'HEAD');
      assert.equal(answer.status, 302);
      const location = new URL(String(answer.headers.location));
      assert.equal(location.origin, ID_URL);
      assert.equal(location.searchParams.get('client_id'), clientId);
      assert.equal(location.searchParams.get('redirect_uri'), `${SITE_URL}/oauth2/callback`);
    });
  });

  /** The admin adds a user (in `groups`) and creates their one-time link; returns the link shown. */
  async function inviteInConsole(username: string, groups: string[]): Promise<string> {
    const { page } = admin;
    await page.goto(`${ID_URL}/admin/users/new`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Email').fill(`${username}@example.com`);
    for (const group of groups) await page.getByLabel(group, { exact: true }).check();
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.waitForURL(/\/admin\/users\/[^/?]+\?notice=created$/);
    await page.getByRole('link', { name: 'Create a sign-in link' }).click();
    await page.getByRole('button', { name: 'Create link' }).click();
    await page.waitForURL(/\/link\?reveal=/);
    return (await page.locator('#link-url').innerText()).trim();
  }

  describe('a friend in the group friends, in their own browser', () => {
    let friend: PasskeyTab;
    let navigations: string[];
    const sessionCookie = async () => (await friend.context.cookies(SITE_URL)).find((c) => c.name === '_oauth2_proxy');

    it('registers a passkey from the one-time link the admin created', async () => {
      const linkUrl = await inviteInConsole('ada', ['friends']);
      assert.match(linkUrl, new RegExp(`^${ID_URL}/lc/`));
      friend = await newTab();
      await addPasskeyFromInvitation(friend, linkUrl);
      assert.equal(await passkeysIn(friend), 1);
      navigations = recordNavigations(friend);
    });

    it('opens https://agents.example/private/, signs in at the id with the passkey and reads it', async () => {
      navigations.length = 0;
      await visitSigningInIfAsked(friend, `${SITE_URL}/private/`);
      assert.ok(navigations.some((url) => url.startsWith(`${ID_URL}/login`)), `no passkey sign-in on the way: ${navigations.join(' → ')}`);
      assert.match(await friend.page.locator('body').innerText(), PRIVATE_INDEX_TEXT);
      const cookie = await sessionCookie();
      assert.ok(cookie, 'the proxy\'s session cookie is set');
      assert.equal(cookie.secure, true);
    });

    it('is refused /private/family/ with a page that says why, without a redirect loop', async () => {
      navigations.length = 0;
      const response = await friend.page.goto(`${SITE_URL}/private/family/`);
      await friend.page.waitForLoadState('networkidle');
      assert.equal(response?.status(), 403);
      assert.deepEqual(navigations, [`${SITE_URL}/private/family/`], 'answered in place: no redirect');
      const text = await friend.page.locator('body').innerText();
      assert.doesNotMatch(text, FAMILY_TEXT);
      assert.match(text, /You are signed in, but your account does not have access here/);
      assert.doesNotMatch(text, /family/, 'the group that may see the section is not named');
    });

    it('loses /private/ within seconds of signing out at the id (back-channel logout reaches the proxy)', async (t) => {
      const cookie = await sessionCookie();
      assert.ok(cookie);
      const withCookie = () => edgeFetch(`${SITE_URL}/private/`, edge(), { cookie: `${cookie.name}=${cookie.value}` });
      assert.equal((await withCookie()).status, 200, 'the session works before signing out');
      await friend.page.goto(`${ID_URL}/account`);
      const signedOutAt = Date.now();
      await friend.page.getByRole('button', { name: 'Sign out' }).click();
      await friend.page.waitForURL(`${ID_URL}/login`);
      let answer = await withCookie();
      while (answer.status === 200 && Date.now() - signedOutAt < 5000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        answer = await withCookie();
      }
      assert.equal(answer.status, 302, `still served ${Date.now() - signedOutAt} ms after signing out`);
      t.diagnostic(`/private/ refused ${Date.now() - signedOutAt} ms after pressing Sign out at the id`);
      assert.doesNotMatch(answer.body, PRIVATE_INDEX_TEXT);
      // In the browser, the same cookie now leads to the id's passkey sign-in.
      await friend.page.goto(`${SITE_URL}/private/`);
      await friend.page.waitForURL((url) => url.href.startsWith(`${ID_URL}/login`));
    });
  });

  describe('a friend in the groups friends and family', () => {
    // nginx asks /oauth2/auth?allowed_groups=family: only a session that carries the groups claim
    // can pass, so the generated proxy unit must ask for the groups scope.
    it('reads /private/family/', async () => {
      const linkUrl = await inviteInConsole('cleo', ['friends', 'family']);
      const relative = await newTab();
      await addPasskeyFromInvitation(relative, linkUrl);
      await visitSigningInIfAsked(relative, `${SITE_URL}/private/family/`);
      assert.match(await relative.page.locator('body').innerText(), FAMILY_TEXT);
    });
  });

  describe('a second friend outside the group friends', () => {
    it('is refused by the app\'s allowed groups at the provider with a page that says why, not a loop', async () => {
      const linkUrl = await inviteInConsole('bob', []);
      const stranger = await newTab();
      await addPasskeyFromInvitation(stranger, linkUrl);
      const navigations = recordNavigations(stranger);
      const { page } = stranger;
      await page.goto(`${SITE_URL}/private/`);
      await page.waitForURL((url) => url.href.startsWith(`${ID_URL}/login`));
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page.getByText(/not allowed to use agents\.example/).waitFor();
      await page.waitForLoadState('networkidle');
      const settled = navigations.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(navigations.length, settled, `still navigating: ${navigations.join(' → ')}`);
      assert.ok(settled <= 6, `too many navigations: ${navigations.join(' → ')}`);
      assert.ok(page.url().startsWith(`${ID_URL}/`), `refused at the provider, not at the site: ${page.url()}`);
      const text = await page.locator('body').innerText();
      assert.match(text, /Ask an administrator to add you to one of its groups/);
      assert.doesNotMatch(text, PRIVATE_INDEX_TEXT);
      assert.equal((await stranger.context.cookies(SITE_URL)).find((c) => c.name === '_oauth2_proxy'), undefined, 'no session at the site');
    });
  });

  describe('the guide\'s Rollback Procedure (generate nginx --public)', () => {
    it('passes nginx -t and serves /private/ without authentication', async () => {
      const rollback = planFromArgs([...generateArgs({ dir, ca, siteRoot, idPort: id.port, proxyPort }, false), '--public']);
      assert.equal(rollback.public, true);
      const rollbackDir = join(dir, 'nginx-rollback');
      mkdirSync(rollbackDir);
      const port = await onFreshPorts(3, async () => {
        const ports = { https: await freePort(), http: await freePort() };
        writeNginxConf(rollbackDir, onLocalPorts(generateNginxPublicConfig(rollback), ports, 1));
        const checked = nginxTest(rollbackDir);
        assert.equal(checked.status, 0, checked.output);
        nginxes.push(await startNginx(rollbackDir, ports.https));
        return ports.https;
      });
      const answer = await edgeFetch(`${SITE_URL}/private/`, { port, caPem: ca.caPem });
      assert.equal(answer.status, 200);
      assert.match(answer.body, PRIVATE_INDEX_TEXT);
    });
  });
});
