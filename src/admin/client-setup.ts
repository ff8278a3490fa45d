import type { OidcClient } from '../oidc/clients.ts';
import { DISCOVERY_PATH } from '../oidc/paths.ts';

// What someone configuring a relying party needs to copy, after creating a client. The proxy
// flags are oauth2-proxy's; `latchkey proxy` takes the same ones (DESIGN.md, compatibility).

export interface ClientSetupValues {
  clientId: string;
  /** Null for a public client, or when the secret is no longer shown. */
  secret: string | null;
  issuer: string;
  discoveryUrl: string;
  oauth2ProxyCommand: string;
  latchkeyProxyCommand: string;
}

const SECRET_PLACEHOLDER = 'PASTE-THE-CLIENT-SECRET';

/** Shell-quotes a value only when it needs it, so the common case stays readable. */
const shellValue = (value: string) => (/^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);

export function clientSetupValues(client: OidcClient, issuer: string, secret: string | null): ClientSetupValues {
  const redirect = client.redirectUris.find((uri) => uri.endsWith('/oauth2/callback')) ?? client.redirectUris[0];
  const flags = [
    '--provider=oidc',
    `--oidc-issuer-url=${shellValue(issuer)}`,
    `--client-id=${shellValue(client.id)}`,
    ...(client.isPublic ? [] : [`--client-secret=${shellValue(secret ?? SECRET_PLACEHOLDER)}`]),
    `--redirect-url=${shellValue(redirect)}`,
    '--code-challenge-method=S256',
    // The groups claim is asked for only when the client is limited to groups.
    ...(!client.unrestricted && client.allowedGroups.length ? ["--scope='openid email profile groups'"] : []),
    '--email-domain=*',
    "--cookie-secret=\"$(openssl rand -base64 32 | tr -- '+/' '-_')\"",
  ];
  const command = (program: string) => [program, ...flags].join(' \\\n  ');
  return {
    clientId: client.id,
    secret,
    issuer,
    discoveryUrl: `${issuer}${DISCOVERY_PATH}`,
    oauth2ProxyCommand: command('oauth2-proxy'),
    latchkeyProxyCommand: command('latchkey proxy'),
  };
}
