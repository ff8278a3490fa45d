import { OFFLINE, type Check, fail, ok, skip } from '../check.ts';

// Failure mode 5: a provider that builds URLs from what it sees (Pocket ID without TRUST_PROXY,
// behind a proxy without X-Forwarded-Proto) publishes http:// endpoints under an https issuer.
export const discoveryScheme: Check = {
  id: 'discovery-scheme',
  title: "Every endpoint the provider publishes uses the issuer's scheme and host",
  async run(ctx) {
    if (!ctx.urls.id) return skip(ctx.inputs.offline ? OFFLINE : 'no identity provider URL given (--id-url, or APP_URL in the environment)');
    const found = await ctx.discovery();
    if ('error' in found) return skip(`discovery is not reachable (${found.error}); see discovery-issuer`);
    const issuer = new URL(String(found.document.issuer));
    const wrong = Object.entries(found.document)
      .filter(([key]) => key.endsWith('_endpoint') || key === 'jwks_uri')
      .filter(([, value]) => typeof value === 'string' && new URL(value).origin !== issuer.origin)
      .map(([key, value]) => `${key}=${value}`);
    if (wrong.length)
      return fail(`the provider's issuer is ${issuer.origin} but it publishes ${wrong.join(', ')}: it builds URLs from the request it sees behind the proxy`,
        'nginx: proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header Host $host; in the id server\'s location, and TRUST_PROXY=<the proxy\'s address> for the provider (latchkey id takes every URL from APP_URL and never does this)');
    return ok(`every endpoint is under ${issuer.origin}`);
  },
};
