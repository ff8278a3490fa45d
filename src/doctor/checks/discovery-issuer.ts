import { OFFLINE, type Check, fail, ok, skip } from '../check.ts';

// Failure mode 1: the issuer (and the passkey origin) come from APP_URL; a client that reached
// the provider at another address refuses its tokens, and passkeys fail with NotAllowedError.
export const discoveryIssuer: Check = {
  id: 'discovery-issuer',
  title: "OIDC discovery answers, and its issuer is APP_URL and the address users open",
  async run(ctx) {
    if (!ctx.urls.id) return skip(ctx.inputs.offline ? OFFLINE : 'no identity provider URL given (--id-url, or APP_URL in the environment)');
    const found = await ctx.discovery();
    if ('error' in found) return fail(found.error, `make ${ctx.urls.id}/.well-known/openid-configuration reach latchkey id; check with: curl -i ${ctx.urls.id}/.well-known/openid-configuration`);
    const issuer = String(found.document.issuer ?? '');
    const appUrl = ctx.id?.env.APP_URL ?? ctx.id?.env.PUBLIC_APP_URL;
    if (appUrl !== undefined && issuer !== appUrl)
      return fail(`discovery says issuer "${issuer}" but APP_URL (${ctx.id!.source}) is "${appUrl}": the running provider was started with another APP_URL, or this is not the provider you configured`,
        `set APP_URL=${issuer} exactly (no trailing slash), or restart latchkey id with the APP_URL you meant`);
    if (issuer !== ctx.urls.id)
      return fail(`users reach the provider at ${ctx.urls.id} but its issuer is "${issuer}": clients refuse its tokens and passkeys are bound to the issuer's host`,
        `set APP_URL=${ctx.urls.id} and restart latchkey id (or point users and --oidc-issuer-url at ${issuer})`);
    const proxyIssuer = ctx.proxy?.raw.get('oidc-issuer-url');
    if (typeof proxyIssuer === 'string' && proxyIssuer.replace(/\/$/, '') !== issuer)
      return fail(`the proxy's --oidc-issuer-url is "${proxyIssuer}" but the provider's issuer is "${issuer}"`, `--oidc-issuer-url=${issuer}`);
    return ok(`issuer ${issuer}${appUrl !== undefined ? ' = APP_URL' : ''} = the address users open`);
  },
};
