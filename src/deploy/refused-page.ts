import type { ProtectedPrefix } from './plan.ts';

/**
 * What a signed-in visitor whom the proxy refused (403: not in the prefix's groups) sees from the
 * edge, instead of a bare "403 Forbidden": a page in place, never a redirect to sign in, which
 * would bring them straight back as the same user (a loop). nginx's auth_request and Caddy's
 * forward_auth both drop the proxy's own body, so the edge carries the page.
 * Group names are letters, digits and . _ @ - (protect-rule.ts): nothing to escape.
 */
export function refusedPageHtml(rule: ProtectedPrefix): string {
  const why = rule.allowedGroups.length
    ? `this section is only for members of the ${rule.allowedGroups.length === 1 ? 'group' : 'groups'} ${rule.allowedGroups.map((g) => `<strong>${g}</strong>`).join(', ')}, and your account is not in ${rule.allowedGroups.length === 1 ? 'it' : 'any of them'}`
    : 'your account is not allowed here';
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex"><title>Not for this account</title></head>',
    '<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5">',
    `<h1>This section is not for your account</h1><p role="alert">You are signed in, but ${why}.</p>`,
    '<p>Ask the site’s administrator to add you. <a href="/oauth2/sign_out">Sign out of this site</a> or go <a href="/">back to the site</a>.</p>',
    '</body></html>',
  ].join('');
}
