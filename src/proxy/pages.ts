// The proxy's two pages: the sign-in button (without --skip-provider-button) and errors.
import { type Html, html } from '../web/html.ts';

const layout = (title: string, body: Html): Html => html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;line-height:1.5}button,a.button{font:inherit;padding:.6rem 1.2rem;cursor:pointer}</style>
</head><body><main>${body}</main></body></html>`;

// A GET form drops the query of its action, so rd travels as a hidden field.
export const signInPage = (view: { startPath: string; redirect: string }): Html => layout('Sign in', html`<h1>Sign in</h1>
<p>This part of the site is private.</p>
<form method="get" action="${view.startPath}"><input type="hidden" name="rd" value="${view.redirect}">
<button type="submit">Sign in with your passkey</button></form>`);

export const proxyErrorPage = (view: { status: number; title: string; message: string; requestId: string }): Html => layout(view.title, html`<h1>${view.title}</h1>
<p role="alert">${view.message}</p>
<p><a href="/">Back to the site</a></p>
<p><small>Reference: ${view.requestId}</small></p>`);
