// The deployment guide's stack with latchkey in every role except the edge: `latchkey id` at
// https://id.example (in-process, on loopback, behind whatever edge the test starts), `latchkey
// proxy` from the guide's Step 3 flags, a Hugo build of the demo site, and a local CA whose leaf
// certificate covers both host names. The test brings nginx or Caddy and Chromium.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { startGuideProxy, type GuideProxy } from './guide-proxy.ts';
import { buildHugoSite } from './hugo-site.ts';
import { startIdServer, type IdServer } from './id-server.ts';
import { makeLocalCa, type LocalCa } from './local-ca.ts';

export const ID_HOST = 'id.example';
export const SITE_HOST = 'agents.example';
export const ID_URL = `https://${ID_HOST}`;
export const SITE_URL = `https://${SITE_HOST}`;

export interface GuideStack {
  dir: string;
  ca: LocalCa;
  siteRoot: string;
  id: IdServer;
  proxy: GuideProxy;
  proxyPort: number;
  /** Step 7: a friend in the allowed group, and the one-time link that lets them add a passkey. */
  inviteFriend(username: string): Promise<{ userId: string; linkUrl: string }>;
  close(): Promise<void>;
}

export async function startGuideStack(): Promise<GuideStack> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-guide-'));
  let id: IdServer | undefined;
  try {
    const ca = makeLocalCa(join(dir, 'tls'), [ID_HOST, SITE_HOST]);
    const siteRoot = buildHugoSite(join(dir, 'site'), `${SITE_URL}/`);
    // Step 2: PUBLIC_APP_URL is the public https address; TRUST_PROXY names the edge (loopback).
    id = await startIdServer({ APP_URL: ID_URL, TRUST_PROXY: '127.0.0.1' });
    const proxyPort = await freePort();
    const { identity } = id.services;
    await identity.groups.create({ name: 'friends' });
    // Step 6: the OIDC client, plus what latchkey adds: the proxy's back-channel logout endpoint
    // (reached directly on loopback) and the group whose members may use the site.
    const { secret } = await id.services.clients.create({
      id: 'pocket-id-client', name: 'agents-example', redirectUris: [`${SITE_URL}/oauth2/callback`],
      backchannelLogoutUri: `http://127.0.0.1:${proxyPort}/oauth2/backchannel-logout`, allowedGroups: ['friends'],
    });
    const proxy = await startGuideProxy({
      issuerUrl: ID_URL, siteUrl: SITE_URL, clientSecret: secret!, port: proxyPort, idInternalUrl: `http://127.0.0.1:${id.port}`,
    });
    const running = id;
    return {
      dir, ca, siteRoot, id, proxy, proxyPort,
      async inviteFriend(username) {
        // An admin who adds a friend vouches for the address: the guide's flags refuse unverified emails.
        const user = await identity.users.create({ username, email: `${username}@example.com`, emailVerified: true });
        await identity.groups.setUserGroups(user.id, ['friends']);
        const { token } = await identity.links.issue('signin', user.id, 600);
        return { userId: user.id, linkUrl: `${ID_URL}/lc/${token}` };
      },
      async close() {
        await proxy.close();
        await running.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await id?.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
