// Page structure and wording that assistive technology and people rely on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldErrorsFrom } from '../../src/web/form.ts';
import { badRequest } from '../../src/core/errors.ts';
import { notAllowedPage, proxyErrorPage, signInPage, signOutConfirmPage } from '../../src/proxy/pages.ts';
import { accountPage } from '../../src/web/pages/account-page.ts';
import { sessionsPage } from '../../src/web/pages/sessions-page.ts';

const chrome = { appName: 'latchkey', displayName: 'Dana', isAdmin: false, csrfToken: 'token' };
const headingLevels = (page: string) => [...page.matchAll(/<h([1-6])\b/g)].map((m) => Number(m[1]));

/** True when no heading is more than one level below the one before it. */
const skipsNoLevel = (levels: number[]) => levels.every((level, i) => i === 0 || level <= levels[i - 1] + 1);

describe('page structure', () => {
  it('never skips a heading level on the passkeys and sessions pages', () => {
    const passkey = { id: 'a', name: 'Laptop', createdAt: 1, lastUsedAt: null, backupEligible: false, backupState: false };
    const session = { id: 's', device: 'Firefox on Linux', userAgent: null, ip: null, createdAt: 1, lastSeenAt: 2, current: true };
    const pages = {
      passkeys: accountPage({ ...chrome, passkeys: [passkey], unusedRecoveryCodes: 0 }).value,
      sessions: sessionsPage({ ...chrome, sessions: [session], apps: [{ clientId: 'wiki', name: 'Wiki', lastSignInAt: 1 }] }).value,
    };
    for (const [name, page] of Object.entries(pages)) {
      const levels = headingLevels(page);
      assert.equal(levels[0], 1, name);
      assert.ok(skipsNoLevel(levels), `${name}: ${levels.join(' ')}`);
    }
  });

  it("puts the site-origin pages' content in <main>", () => {
    const pages = [
      signInPage({ startPath: '/oauth2/start', redirect: '/private/' }).value,
      proxyErrorPage({ status: 403, title: 'Not allowed', message: 'No.', requestId: 'r1' }).value,
      notAllowedPage({ signedInAs: 'dana', signOutPath: '/oauth2/sign_out', signInAgainPath: '/oauth2/sign_out?rd=%2Fprivate%2F', siteHome: '/' }).value,
      signOutConfirmPage({ action: '/oauth2/sign_out?rd=%2F' }).value,
    ];
    for (const page of pages) assert.match(page, /<main>\s*<h1>[\s\S]*<\/main><\/body>/);
  });

  it('lets a new passkey have as long a name as a renamed one (64 characters)', () => {
    const page = accountPage({ ...chrome, passkeys: [{ id: 'a', name: 'Laptop', createdAt: 1, lastUsedAt: null, backupEligible: false, backupState: false }], unusedRecoveryCodes: 0 }).value;
    assert.match(page, /id="passkey-name"[^>]* maxlength="64"/);
    assert.match(page, /id="rename-0"[^>]* maxlength="64"/);
  });

  it('starts a field error with a capital once the field name is dropped', () => {
    const errors = fieldErrorsFrom(badRequest('invalid_redirect_uri', 'redirectUris: at least one URI is needed.', { fields: { redirectUris: 'missing' } }), 'name');
    assert.deepEqual(errors, { redirectUris: 'At least one URI is needed.' });
  });
});
