import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsQRModule from 'jsqr';
import { clientSetupValues } from '../../src/admin/client-setup.ts';
import { qrSvg } from '../../src/admin/qr-svg.ts';
import type { OidcClient } from '../../src/oidc/clients.ts';

// jsqr is CommonJS whose typings declare an ES default export: the function is at .default.
const jsQR = jsQRModule.default;

/** Paints the SVG's unit squares into an RGBA bitmap, as a screen would, for a QR decoder. */
function rasterize(svg: string, scale = 4): { data: Uint8ClampedArray; size: number } {
  const total = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)![1]);
  const size = total * scale;
  const data = new Uint8ClampedArray(size * size * 4).fill(255);
  for (const [, x, y] of svg.matchAll(/M(\d+) (\d+)h1v1h-1z/g))
    for (let dy = 0; dy < scale; dy++)
      for (let dx = 0; dx < scale; dx++) {
        const offset = ((Number(y) * scale + dy) * size + Number(x) * scale + dx) * 4;
        data[offset] = data[offset + 1] = data[offset + 2] = 0;
      }
  return { data, size };
}

describe('admin console: QR codes and client setup values', () => {
  it('draws a QR code that a decoder reads back as the one-time link', () => {
    const link = 'https://id.example.com/lc/e3iZ0su0IWJoBiveNT7CZ56C6zrQxo8Rf_Rq1uimt3g';
    const { data, size } = rasterize(qrSvg(link, 'QR code').value);
    assert.equal(jsQR(data, size, size)?.data, link);
  });

  it('escapes the QR code\'s accessible label', () => {
    const svg = qrSvg('x', 'for "<b>"').value;
    assert.match(svg, /aria-label="for &quot;&lt;b&gt;&quot;"/);
    assert.doesNotMatch(svg, /<b>/);
  });

  const client: OidcClient = {
    id: 'pocket-id-client', name: 'Site', redirectUris: ['https://agents.example.com/oauth2/callback'], postLogoutRedirectUris: [],
    isPublic: false, requirePkce: true, allowedGroups: ['family'], unrestricted: false, backchannelLogoutUri: null, createdAt: 0, updatedAt: 0,
  };

  it('puts the issuer, client ID, secret and callback into ready-to-paste proxy flags', () => {
    const setup = clientSetupValues(client, 'https://id.example.com', 's3cr3t-value');
    assert.equal(setup.discoveryUrl, 'https://id.example.com/.well-known/openid-configuration');
    for (const command of [setup.oauth2ProxyCommand, setup.latchkeyProxyCommand]) {
      for (const flag of ['--provider=oidc', '--oidc-issuer-url=https://id.example.com', '--client-id=pocket-id-client', '--client-secret=s3cr3t-value',
        '--redirect-url=https://agents.example.com/oauth2/callback', "--scope='openid email profile groups'"])
        assert.ok(command.includes(flag), `${flag} missing from:\n${command}`);
    }
    assert.match(setup.latchkeyProxyCommand, /^latchkey proxy \\\n/);
  });

  it('leaves the secret out of the flags once it is no longer shown, and asks for no groups claim for an open client', () => {
    const setup = clientSetupValues({ ...client, unrestricted: true, allowedGroups: [] }, 'https://id.example.com', null);
    assert.match(setup.oauth2ProxyCommand, /--client-secret=PASTE-THE-CLIENT-SECRET/);
    assert.doesNotMatch(setup.oauth2ProxyCommand, /groups/);
  });
});
