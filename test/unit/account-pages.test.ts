import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { siteConsequences } from '../../src/admin/groups-routes.ts';
import { accountPage, type PasskeyListItem } from '../../src/web/pages/account-page.ts';
import { groupsPage } from '../../src/web/pages/admin/groups-page.ts';
import { confirmPage } from '../../src/web/pages/confirm-page.ts';
import { profilePage } from '../../src/web/pages/profile-page.ts';
import { newRecoveryCodesPage, recoveryCodesPage } from '../../src/web/pages/recovery-codes-page.ts';
import { sessionsPage } from '../../src/web/pages/sessions-page.ts';
import { html } from '../../src/web/html.ts';
import { describeUserAgent } from '../../src/web/user-agent.ts';

const chrome = { appName: 'latchkey', displayName: 'Dana', isAdmin: false, csrfToken: 'token' };
const passkey = (over: Partial<PasskeyListItem>): PasskeyListItem =>
  ({ id: 'cred-1', name: 'Laptop', createdAt: Date.UTC(2025, 4, 3, 14, 5), lastUsedAt: null, backupEligible: false, backupState: false, ...over });

describe('account pages', () => {
  it('escapes a passkey name everywhere it appears', () => {
    const page = accountPage({ ...chrome, passkeys: [passkey({ name: '<img src=x onerror=alert(1)>' })], unusedRecoveryCodes: 0 }).value;
    assert.ok(!page.includes('<img src=x'));
    assert.match(page, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });

  it('tells a synced passkey from one bound to its device', () => {
    const page = accountPage({ ...chrome, passkeys: [passkey({ id: 'a', backupEligible: true, backupState: true }), passkey({ id: 'b', name: 'Key' })], unusedRecoveryCodes: 0 }).value;
    assert.match(page, /<span class="badge ok">Synced<\/span>/);
    assert.match(page, /<span class="badge">This device only<\/span>/);
  });

  it('writes dates for people and for machines', () => {
    const page = accountPage({ ...chrome, passkeys: [passkey({})], unusedRecoveryCodes: 0 }).value;
    assert.match(page, /<time datetime="2025-05-03T14:05:00.000Z">3 May 2025, 14:05 UTC<\/time>/);
  });

  it('suggests recovery codes beside the single-passkey warning only to a user without them', () => {
    const without = accountPage({ ...chrome, passkeys: [passkey({})], unusedRecoveryCodes: 0 }).value;
    const withCodes = accountPage({ ...chrome, passkeys: [passkey({})], unusedRecoveryCodes: 4 }).value;
    assert.match(without, /create recovery codes/);
    assert.doesNotMatch(withCodes, /create recovery codes/);
  });

  it('offers a way on to the site only beside one (latchkey serve), and only once there is a passkey to come back with', () => {
    const page = (over: { siteUrl?: string | null; passkeys?: PasskeyListItem[] }) =>
      accountPage({ ...chrome, passkeys: [passkey({})], unusedRecoveryCodes: 0, ...over }).value;
    assert.match(page({ siteUrl: 'https://example.com/private/' }), /<a class="button primary" href="https:\/\/example\.com\/private\/">Go to the site<\/a>/);
    assert.doesNotMatch(page({ siteUrl: 'https://example.com/private/', passkeys: [] }), /Go to the site/);
    assert.doesNotMatch(page({ siteUrl: null }), /Go to the site/);
    assert.doesNotMatch(page({}), /Go to the site/);
  });

  it('offers the way on to the site in the header of every account page when it is given, and nowhere when it is not', () => {
    const site = { ...chrome, siteUrl: 'https://example.com/private/' };
    const header = /<nav aria-label="Account">\s*<a href="https:\/\/example\.com\/private\/">Go to the site<\/a>/;
    const pages = (c: typeof chrome & { siteUrl?: string | null }) => [
      accountPage({ ...c, passkeys: [passkey({})], unusedRecoveryCodes: 0 }).value,
      profilePage({ ...c, username: 'dana', values: { firstName: '', lastName: '', email: '' } }).value,
      sessionsPage({ ...c, apps: [], sessions: [] }).value,
      recoveryCodesPage({ ...c, unused: 0, total: 0, createdAt: null }).value,
      newRecoveryCodesPage({ ...c, codes: ['AAAA-BBBB-CCCC'] }).value,
      confirmPage({ chrome: c, section: 'sessions', title: 'Sign out everywhere?', consequences: html``, action: '/account/sessions/end-all', confirmLabel: 'Sign out', cancelHref: '/account/sessions' }).value,
    ];
    for (const page of pages(site)) assert.match(page, header);
    for (const page of [...pages(chrome), ...pages({ ...chrome, siteUrl: null })]) assert.doesNotMatch(page, /Go to the site/);
    assert.doesNotMatch(accountPage({ ...site, passkeys: [], unusedRecoveryCodes: 0 }).value, /Go to the site/, 'not without a passkey to come back with');
  });

  it('offers "End" for other sessions and "Sign out here" for this one', () => {
    const base = { ip: '192.0.2.1', userAgent: null, createdAt: 1, lastSeenAt: 2 };
    const page = sessionsPage({ ...chrome, apps: [], sessions: [{ ...base, id: 'this', device: 'Firefox on Linux', current: true }, { ...base, id: 'other', device: 'Safari on iOS', current: false }] }).value;
    assert.match(page, /href="\/account\/sessions\/other\/end"/);
    assert.doesNotMatch(page, /\/account\/sessions\/this\/end/);
    assert.match(page, /Sign out here/);
  });
});

describe('describeUserAgent', () => {
  it('names the browser and system of common user agents', () => {
    assert.equal(describeUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 Edg/124.0'), 'Edge on Windows');
    assert.equal(describeUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'), 'Safari on iOS');
    assert.equal(describeUserAgent('Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0'), 'Firefox on Linux');
    assert.equal(describeUserAgent('Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36'), 'Chrome on Android');
    assert.equal(describeUserAgent(null), 'Unknown device');
  });
});

describe('refused forms', () => {
  it('open the profile form with a summary that is announced and links to the first invalid field', () => {
    const page = profilePage({ ...chrome, username: 'dana', values: { firstName: '', lastName: '', email: 'x' }, fieldErrors: { email: 'Enter an email address like name@example.org.', firstName: 'Too long.' } }).value;
    const summary = /<div class="alert error-summary" role="alert" tabindex="-1" autofocus>([\s\S]*?)<\/div>/.exec(page)?.[1] ?? '';
    assert.match(summary, /Your profile was not saved/);
    // In form order: first name comes before email.
    assert.match(summary, /<li><a href="#firstName">Too long\.<\/a><\/li>\s*<li><a href="#email">Enter an email address/);
    assert.match(page, /<input id="firstName"[^>]* aria-invalid="true"/);
  });

  it('show no summary on a form that was not refused', () => {
    const page = profilePage({ ...chrome, username: 'dana', values: { firstName: '', lastName: '', email: '' } }).value;
    assert.doesNotMatch(page, /error-summary/);
  });

  it('use the same summary on admin forms, linking to the field the admin must fix', () => {
    const frame = { appName: 'latchkey', adminName: 'root', csrfToken: 't', section: 'groups' as const };
    const page = groupsPage({ frame, groups: [], values: { name: 'a b', friendlyName: '' }, errors: { name: 'Use letters, digits, dots, dashes or underscores.' } }).value;
    assert.match(page, /role="alert" tabindex="-1" autofocus>[\s\S]*<a href="#f-name">Use letters, digits/);
    assert.match(page, /<input id="f-name"/);
  });
});

describe('admin pages beside latchkey serve', () => {
  const frame = { appName: 'latchkey', adminName: 'root', csrfToken: 't', section: 'groups' as const };
  const groups = (protectGroups: string[]) => groupsPage({ frame, groups: [], values: { name: '', friendlyName: '' }, errors: {}, protectGroups }).value;

  it('says that no rule names a group, when serve protects every section for everyone signed in', () => {
    assert.match(groups([]), /No current rule names a group: every signed-in user may open every protected section\./);
  });

  it('says that a --protect rule names a group by its name, exactly, where latchkey id says that apps see it', () => {
    assert.match(groups(['family']), /<p class="hint" id="f-name-hint">Letters, digits, dots, dashes or underscores; no spaces\. A --protect PATH=GROUP rule names the group by this name, exactly \(upper and lower case differ\)\.<\/p>/);
    assert.doesNotMatch(groups(['family']), /Apps see this name/);
    const underId = groupsPage({ frame, groups: [], values: { name: '', friendlyName: '' }, errors: {}, protectGroups: null }).value;
    assert.match(underId, /<p class="hint" id="f-name-hint">Letters, digits, dots, dashes or underscores; no spaces\. Apps see this name\.<\/p>/);
  });

  it('says what deleting a group does to each section whose --protect rule names it', () => {
    const serve = { sessionRecheckMinutes: 5, protectRules: [
      { prefix: '/private/', groups: [] }, { prefix: '/family/', groups: ['family'] }, { prefix: '/photos/', groups: ['family', 'friends'] },
    ] };
    assert.deepEqual(siteConsequences(serve, 'family'), [
      '/family/ (--protect /family/=family) is closed to everyone: nobody is in a group named family any more, so every signed-in user is refused there, until you create a group of that name again and add people to it, or change the rule.',
      '/photos/ (--protect /photos/=family,friends) no longer lets its members in through this group; members of friends still get in.',
      'Former members signed in to the site keep their access for up to 5 minutes, until the site checks their session again.',
    ]);
    assert.deepEqual(siteConsequences(serve, 'Family'), ['No --protect rule of latchkey serve names Family: nothing on the site changes.'], 'names are compared exactly');
  });

  it('lists the groups the --protect rules name, escaped, in their order', () => {
    assert.match(groups(['family', '<b>x</b>']), /The current rules name <code>family<\/code>, <code>&lt;b&gt;x&lt;\/b&gt;<\/code>\./);
  });
});
