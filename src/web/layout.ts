import { html, type Html } from './html.ts';

export interface LayoutOptions {
  title: string;
  /** Absent only where the name is not at hand (the identity provider's own pages): no header then. */
  appName?: string;
  /** Loads the passkey script (sign-in, setup, account pages). */
  passkeyScript?: boolean;
  /** The signed-in user's name, to show the account menu. */
  signedInAs?: string | null;
  isAdmin?: boolean;
  csrfToken?: string;
  /** The site this provider runs beside (`latchkey serve`), linked from the account menu; only the account pages set it. */
  siteUrl?: string | null;
}

// One layout for every page: no inline script or style, so the Content-Security-Policy can
// forbid both (see security-headers.ts).
export function layout(options: LayoutOptions, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${options.csrfToken ? html`<meta name="csrf-token" content="${options.csrfToken}">` : ''}
<title>${options.appName ? `${options.title} · ${options.appName}` : options.title}</title>
<link rel="stylesheet" href="/assets/style.css">
${options.passkeyScript ? html`<script type="module" src="/assets/passkey.js"></script>` : ''}
</head>
<body>
${options.appName ? html`<header class="top">
  <a class="brand" href="/">${options.appName}</a>
  ${options.signedInAs ? html`<nav aria-label="Account">
    ${options.siteUrl ? html`<a href="${options.siteUrl}">Go to the site</a>` : ''}
    ${options.isAdmin ? html`<a href="/admin">Admin</a>` : ''}
    <a href="/account">${options.signedInAs}</a>
    <form method="post" action="/logout" class="inline">${options.csrfToken ? html`<input type="hidden" name="csrf" value="${options.csrfToken}">` : ''}<button type="submit" class="link">Sign out</button></form>
  </nav>` : ''}
</header>` : ''}
<main id="main">
${body}
</main>
</body>
</html>`;
}
