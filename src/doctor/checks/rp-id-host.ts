import { type Check, fail, ok, skip } from '../check.ts';

// Failure mode 1: a passkey belongs to the relying-party ID (APP_URL's host). A browser on any
// other host name refuses to use it ("NotAllowedError", "origin mismatch").
export const rpIdHost: Check = {
  id: 'rp-id-host',
  title: "The host users open for signing in is the passkeys' relying-party ID",
  async run(ctx) {
    if (!ctx.inputs.idUrl) return skip('no --id-url given: the address users open is not known apart from APP_URL itself');
    let rpId = ctx.id?.appUrl?.hostname ?? null;
    let from = 'APP_URL';
    if (!rpId) {
      const found = await ctx.discovery();
      if ('error' in found) return skip(`the relying-party ID is not known: no APP_URL given and ${found.error}`);
      rpId = new URL(String(found.document.issuer)).hostname;
      from = 'the issuer';
    }
    const reached = new URL(ctx.inputs.idUrl);
    if (reached.hostname !== rpId)
      return fail(`users open ${reached.hostname}, but the passkeys' relying-party ID (${from}'s host) is ${rpId}: registration and sign-in fail with NotAllowedError`,
        `APP_URL=${reached.protocol}//${reached.host} (and register passkeys again: existing ones stay bound to ${rpId})`);
    if (reached.protocol !== 'https:' && !['localhost', '127.0.0.1'].includes(reached.hostname) && !reached.hostname.endsWith('.localhost'))
      return fail(`users open ${reached.origin} over plain http: browsers offer no passkeys there (not a secure context)`, `serve ${reached.hostname} over https and set APP_URL=https://${reached.host}`);
    return ok(`relying-party ID ${rpId} = the host users open`);
  },
};
