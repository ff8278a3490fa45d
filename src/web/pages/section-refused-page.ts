import { type Html, html } from '../html.ts';

// What a signed-in visitor outside a prefix's groups sees (latchkey serve). A page, never a
// redirect: sending them to sign in again would only bring them back here, signed in as the same
// user. Self-contained (no stylesheet link): it is served on the site's origin, not the provider's.

export interface SectionRefusedView {
  /** Who the visitor is signed in as (preferred username, else email). */
  signedInAs: string;
  /** The groups the section is for. */
  allowedGroups: readonly string[];
  signOutPath: string;
}

export const sectionRefusedPage = (view: SectionRefusedView): Html => html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Not for this account</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}</style>
</head><body><main>
<h1>This section is not for your account</h1>
<p role="alert">You are signed in as <strong>${view.signedInAs}</strong>, but this section is for
${view.allowedGroups.length === 1 ? 'group' : 'groups'} ${view.allowedGroups.map((group, i) => html`${i ? ', ' : ''}<strong>${group}</strong>`)}.</p>
<p>Ask the site's administrator to add you, or <a href="${view.signOutPath}">sign out</a> and sign in with another account.</p>
<p><a href="/">Back to the site</a></p>
</main></body></html>`;
