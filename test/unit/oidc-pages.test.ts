import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accessRefusedPage, loggedOutPage, logoutConfirmPage, messagePage, oversizedRequestPage, tooManySignInRequestsPage } from '../../src/oidc/pages.ts';

const pages = {
  message: messagePage({ title: 'Unknown application', message: 'Not registered.', code: 'invalid_client' }).value,
  refused: accessRefusedPage({ clientName: 'Wiki', message: 'Ask an administrator.' }).value,
  logoutConfirm: logoutConfirmPage({ host: 'id.example.org', form: '<form id="op.logoutForm" method="post" action="/api/oidc/end-session/confirm"></form>' }).value,
  loggedOut: loggedOutPage({ clientName: 'Wiki' }).value,
  oversized: oversizedRequestPage({ oversized: { kind: 'parameter', parameter: 'state', chars: 2049, maxChars: 2048 } }).value,
  tooMany: tooManySignInRequestsPage({}).value,
};

describe("the identity provider's own pages", () => {
  for (const [name, page] of Object.entries(pages)) {
    it(`${name}: uses the shared stylesheet, not an inline style the Content-Security-Policy would block`, () => {
      assert.match(page, /<link rel="stylesheet" href="\/assets\/style.css">/);
      assert.doesNotMatch(page, /<style|style="/);
      assert.match(page, /<main id="main">[\s\S]*<h1>/);
    });
  }

  it("names the site's app, not the provider's host, when asking to sign out, and titles the page with it", () => {
    const page = logoutConfirmPage({ host: 'id.example.org', form: '', appName: 'Family site' }).value;
    assert.match(page, /<h1>Sign out of Family site\?<\/h1>/);
    assert.match(page, /<title>Sign out · Family site<\/title>/);
    assert.match(logoutConfirmPage({ host: 'id.example.org', form: '' }).value, /Sign out of id\.example\.org\?/, 'the host when no name is given');
  });

  it("escapes an oversized parameter's name, which the request chose, and shows only its start", () => {
    const page = oversizedRequestPage({ oversized: { kind: 'parameter', parameter: `<script>${'x'.repeat(100)}`, chars: 3000, maxChars: 2048 } }).value;
    assert.doesNotMatch(page, /<script>/);
    assert.match(page, /&quot;&lt;script&gt;x{32}…&quot; of 3,000 characters/);
  });

  it('escapes the application name', () => {
    assert.doesNotMatch(accessRefusedPage({ clientName: '<script>', message: 'x' }).value, /<script>/);
  });
});
