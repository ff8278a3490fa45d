// A provider that answers OIDC discovery only: all a proxy needs at start and to build its
// sign-in redirect. Used by tests that spawn proxies and by the benchmarks.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** With `jwks`, /jwks answers those keys (for tests that sign logout tokens themselves). */
export async function startDiscoveryStub(options: { jwks?: { keys: object[] } } = {}): Promise<{ issuer: string; close(): Promise<void> }> {
  let issuer = '';
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (options.jwks && req.url === '/jwks') return res.end(JSON.stringify(options.jwks));
    res.end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'], code_challenge_methods_supported: ['S256'] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { issuer, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
