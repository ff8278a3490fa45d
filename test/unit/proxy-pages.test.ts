import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notAllowedPage, signOutConfirmPage } from '../../src/proxy/pages.ts';
import { refusedPageHtml } from '../../src/deploy/refused-page.ts';

describe('notAllowedPage', () => {
  it('says who is signed in and links to the sign-out, escaping the name the provider sent', () => {
    const page = notAllowedPage({ signedInAs: '<b>eve</b>', signOutPath: '/auth/sign_out' }).value;
    assert.match(page, /You are signed in as <strong>&lt;b&gt;eve&lt;\/b&gt;<\/strong>, but this account does not have access here/);
    assert.match(page, /<a href="\/auth\/sign_out">sign out<\/a>/);
  });

  it('offers to sign out and in again, for access granted since the session began, only where signing in again would help', () => {
    const page = notAllowedPage({ signedInAs: 'eve', signOutPath: '/oauth2/sign_out', signInAgainPath: '/oauth2/sign_out?rd=%2Fprivate%2F%3Fa%3D1%26b%3D2' }).value;
    assert.match(page, /If you were given access just now, <a href="\/oauth2\/sign_out\?rd=%2Fprivate%2F%3Fa%3D1%26b%3D2">sign out and in again<\/a> to use it\./);
    assert.doesNotMatch(notAllowedPage({ signedInAs: 'eve', signOutPath: '/oauth2/sign_out' }).value, /sign out and in again/);
  });

  it('offers the way back to the site only where there is a public part to go back to', () => {
    assert.doesNotMatch(notAllowedPage({ signedInAs: 'eve', signOutPath: '/oauth2/sign_out' }).value, /Back to the site/);
    assert.match(notAllowedPage({ signedInAs: 'eve', signOutPath: '/oauth2/sign_out', siteHome: '/' }).value, /<a href="\/">Back to the site<\/a>/);
  });
});

describe('signOutConfirmPage', () => {
  it('says another site asked, and posts to the action it is given, escaped', () => {
    const page = signOutConfirmPage({ action: `/oauth2/sign_out?rd=${encodeURIComponent("/it's")}"><script>` }).value;
    assert.match(page, /A page on another website sent you here to sign you out of this site\. Nothing has changed yet\./);
    assert.match(page, /<form method="post" action="\/oauth2\/sign_out\?rd=%2Fit&#39;s&quot;&gt;&lt;script&gt;"><button type="submit">Sign out<\/button><\/form>/);
    assert.doesNotMatch(page, /<script>/);
  });
});

describe('the edge\'s refusal page (nginx, Caddy)', () => {
  it('says the same as the proxy\'s, without a name the edge does not know, and quotes neither nginx nor Caddy would break on', () => {
    const page = refusedPageHtml('https://id.example.com:8443/api/oidc/end-session');
    assert.match(page, /You are signed in, but your account does not have access here/);
    assert.match(page, /<a href="\/oauth2\/sign_out\?rd=https%3A%2F%2Fid\.example\.com%3A8443%2Fapi%2Foidc%2Fend-session">sign out<\/a>/,
      'sign-out continues to the provider, or the same account would be signed straight back in');
    assert.doesNotMatch(page, /['`$]/);
  });
});
