// Recovery codes over HTTP: made once, shown once, stored hashed, each used once; signing in with
// one leads to "add a passkey"; attempts are limited per account and address, per address and per
// account (high, so that others cannot lock the owner out), and audited.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { codesIn, crossSitePost, signedInUser } from '../helpers/account-fixture.ts';
import { idBrowser } from '../helpers/id-browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const CODE_FORMAT = /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/;

async function makeCodes(browser: ReturnType<typeof idBrowser>, fields: Record<string, string> = {}) {
  await browser.page('/account/recovery-codes');
  const response = await browser.form('/account/recovery-codes', fields);
  return { response, codes: codesIn(await response.text()) };
}

async function recover(id: IdServer, login: string, code: string) {
  const browser = idBrowser(id.origin);
  await browser.page('/login/recovery');
  const response = await browser.form('/login/recovery', { login, code });
  return { browser, response };
}

describe('account pages: recovery codes', () => {
  let id: IdServer;
  before(async () => { id = await startIdServer(); });
  after(() => id.close());

  it('makes ten distinct codes of 60 random bits each, shows them once and stores only hashes', async () => {
    const { user, browser } = await signedInUser(id, { username: 'maker' });
    const { response, codes } = await makeCodes(browser);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, CODE_FORMAT);
    const rows = await id.services.database.db.selectFrom('recovery_codes').selectAll().where('user_id', '=', user.id).execute();
    assert.equal(rows.length, 10);
    const stored = JSON.stringify(rows);
    for (const code of codes) assert.ok(!stored.includes(code) && !stored.includes(code.replace(/-/g, '')), 'no code is stored in the clear');
    const later = await browser.page('/account/recovery-codes');
    assert.match(later.html, /You have <strong>10<\/strong> unused codes of 10/);
    for (const code of codes) assert.ok(!later.html.includes(code), 'the codes are not shown again');
  });

  it('signs in with a recovery code and goes straight to adding a passkey', async () => {
    const { browser: owner } = await signedInUser(id, { username: 'recoverer' });
    const { codes } = await makeCodes(owner);
    const { browser, response } = await recover(id, 'recoverer', codes[3]);
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/account?recovered=1#add-passkey');
    const { html } = await browser.page('/account?recovered=1');
    assert.match(html, /You signed in with a recovery code\.<\/strong> That code no longer works; you have 9 left\./);
    assert.match(html, /data-passkey-register/);
    assert.equal((await browser.registerPasskey('New phone')).response.status, 200, 'the session can add a passkey');
  });

  it('never accepts a used code again', async () => {
    const { browser: owner } = await signedInUser(id, { username: 'onceonly' });
    const { codes } = await makeCodes(owner);
    assert.equal((await recover(id, 'onceonly', codes[0])).response.status, 303);
    const again = await recover(id, 'onceonly', codes[0]);
    assert.equal(again.response.status, 400);
    assert.match(await again.response.text(), /do not match an unused code/);
    assert.equal((await again.browser.page('/account')).response.status, 302, 'no session was started');
  });

  it('lets only one of two simultaneous uses of the same code in', async () => {
    const { browser: owner } = await signedInUser(id, { username: 'racer' });
    const { codes } = await makeCodes(owner);
    const outcomes = await Promise.all([recover(id, 'racer', codes[1]), recover(id, 'racer', codes[1])]);
    assert.deepEqual(outcomes.map((o) => o.response.status).sort(), [303, 400]);
  });

  it('accepts a code typed in capitals with spaces, and an email instead of the username', async () => {
    const { browser: owner } = await signedInUser(id, { username: 'typist', email: 'typist@example.com' });
    const { codes } = await makeCodes(owner);
    const typed = codes[2].toUpperCase().replace(/-/g, ' ');
    assert.equal((await recover(id, 'Typist@Example.com', typed)).response.status, 303);
  });

  it('refuses a wrong code and an unknown account with the same words', async () => {
    const { browser: owner } = await signedInUser(id, { username: 'samewords' });
    await makeCodes(owner);
    const wrong = await recover(id, 'samewords', '0000-0000-0000');
    const unknown = await recover(id, 'nobody-here', '0000-0000-0000');
    assert.equal(wrong.response.status, 400);
    assert.equal(unknown.response.status, 400);
    // focused on arrival (autofocus), so a screen reader and the keyboard start at the refusal
    const message = (html: string) => /<p role="alert" class="alert" tabindex="-1" autofocus>([^<]+)<\/p>/.exec(html)?.[1];
    assert.equal(message(await wrong.response.text()), message(await unknown.response.text()));
  });

  it('refuses a disabled user\'s correct code', async () => {
    const { user, browser: owner } = await signedInUser(id, { username: 'disabled-one' });
    const { codes } = await makeCodes(owner);
    await id.services.identity.users.update(user.id, { disabled: true });
    assert.equal((await recover(id, 'disabled-one', codes[0])).response.status, 400);
    assert.equal((await id.services.identity.recoveryCodes.status(user.id)).unused, 10, 'the code was not spent');
  });

  it('asks for confirmation before replacing codes, then makes the old ones stop working', async () => {
    const { browser } = await signedInUser(id, { username: 'replacer' });
    const first = await makeCodes(browser);
    const unconfirmed = await makeCodes(browser);
    assert.equal(unconfirmed.response.status, 400);
    assert.equal(unconfirmed.codes.length, 0);
    const second = await makeCodes(browser, { replace: 'yes' });
    assert.equal(second.codes.length, 10);
    assert.equal((await recover(id, 'replacer', first.codes[0])).response.status, 400);
    assert.equal((await recover(id, 'replacer', second.codes[0])).response.status, 303);
  });

  it('downloads the codes just made as a text file, and refuses any other text', async () => {
    const { browser } = await signedInUser(id, { username: 'downloader' });
    const { codes } = await makeCodes(browser);
    const file = await browser.form('/account/recovery-codes/download', { codes: codes.join(' ') });
    assert.equal(file.status, 200);
    assert.match(file.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(file.headers.get('content-disposition'), 'attachment; filename="recovery-codes.txt"');
    const text = await file.text();
    for (const code of codes) assert.ok(text.includes(`\n${code}\n`));
    const forged = await browser.form('/account/recovery-codes/download', { codes: '<script>alert(1)</script>' });
    assert.equal(forged.status, 400);
  });

  it('refuses a recovery sign-in posted from another site, and leaves the code unused', async () => {
    const { user, browser: owner } = await signedInUser(id, { username: 'csrfrecover' });
    const { codes } = await makeCodes(owner);
    const attacker = idBrowser(id.origin);
    await attacker.page('/login/recovery');
    const response = await crossSitePost(attacker, id.origin, '/login/recovery', { login: 'csrfrecover', code: codes[0] });
    assert.equal(response.status, 403);
    assert.equal((await id.services.identity.recoveryCodes.status(user.id)).unused, 10);
  });

  it('records successful and failed recovery sign-ins in the audit log', async () => {
    const { user, browser: owner } = await signedInUser(id, { username: 'audited' });
    const { codes } = await makeCodes(owner);
    await recover(id, 'audited', '1111-1111-1111');
    await recover(id, 'audited', codes[0]);
    const events = (await id.services.identity.audit.list({ userId: user.id })).map((e) => e.event);
    assert.ok(events.includes('recovery_codes_generated'));
    assert.ok(events.includes('recovery_code_failed'));
    assert.ok(events.includes('recovery_code_used'));
    const signin = (await id.services.identity.audit.list({ userId: user.id, event: 'signin' })).map((e) => e.details.method);
    assert.ok(signin.includes('recovery_code'));
  });
});

/** A recovery sign-in from `ip`, which the server believes because it trusts the proxy at 127.0.0.1. */
async function recoverFrom(id: IdServer, ip: string, login: string, code: string) {
  const browser = idBrowser(id.origin);
  await browser.page('/login/recovery');
  return browser.jar.fetch(new URL('/login/recovery', id.origin), {
    method: 'POST', headers: { origin: id.origin, 'sec-fetch-site': 'same-origin', 'x-forwarded-for': ip },
    body: new URLSearchParams({ csrf: browser.csrf, login, code }),
  });
}

// Each test has its own server: the counters are per address, and every request here comes from
// 127.0.0.1 unless it names another address through the trusted proxy (recoverFrom).
describe('account pages: recovery sign-in rate limits', () => {
  async function withServer(test: (id: IdServer) => Promise<void>) {
    const id = await startIdServer({ TRUST_PROXY: '127.0.0.1' });
    try { await test(id); } finally { await id.close(); }
  }

  it('stops a sixth attempt for one account from one address within 15 minutes, even with a right code', () => withServer(async (id) => {
    const { user, browser } = await signedInUser(id, { username: 'guessed' });
    const { codes } = await makeCodes(browser);
    for (let i = 0; i < 5; i++) assert.equal((await recover(id, 'guessed', `zzzz-zzzz-zzz${i}`)).response.status, 400);
    const blocked = await recover(id, 'guessed', codes[0]);
    assert.equal(blocked.response.status, 429);
    assert.match(await blocked.response.text(), /Too many attempts/);
    assert.equal((await id.services.identity.recoveryCodes.status(user.id)).unused, 10, 'the right code was not spent');
    assert.equal((await id.services.identity.audit.list({ userId: user.id, event: 'recovery_code_rate_limited' })).length, 1);
  }));

  // Each refused attempt used to add a row, so one client could grow the audit log without limit
  // (2000 POSTs, 2000 rows). Refused attempts past the first add nothing until the window ends;
  // the failed attempts before it are kept, one row each.
  it('records the first refused attempt of a window in the audit log, not each one after it', () => withServer(async (id) => {
    const events = async (event: string) => (await id.services.identity.audit.list({ event, limit: 500 })).length;
    const { browser } = await signedInUser(id, { username: 'flooded' });
    await makeCodes(browser);
    for (let i = 0; i < 5; i++) assert.equal((await recover(id, 'flooded', `zzzz-zzzz-zzz${i}`)).response.status, 400);
    for (let i = 0; i < 10; i++) assert.equal((await recover(id, 'flooded', `yyyy-yyyy-yyy${i}`)).response.status, 429);
    assert.equal(await events('recovery_code_failed'), 5);
    assert.equal(await events('recovery_code_rate_limited'), 1, 'one refusal recorded for the account');
    // The same address, now under other logins: five more failures reach its limit of twenty.
    for (let i = 0; i < 5; i++) assert.equal((await recover(id, `other-${i}`, '3333-3333-3333')).response.status, 400);
    for (let i = 5; i < 15; i++) assert.equal((await recover(id, `other-${i}`, '3333-3333-3333')).response.status, 429);
    assert.equal(await events('recovery_code_failed'), 10, 'every failure before the limit is kept');
    assert.equal(await events('recovery_code_rate_limited'), 2, 'and one refusal recorded for the address');
  }));

  it('stops one address after twenty attempts, even when each is for a different account', () => withServer(async (id) => {
    const { browser } = await signedInUser(id, { username: 'sprayed' });
    const { codes } = await makeCodes(browser);
    for (let i = 0; i < 20; i++) assert.equal((await recover(id, `someone-${i}`, '2222-2222-2222')).response.status, 400);
    assert.equal((await recover(id, 'sprayed', codes[0])).response.status, 429);
  }));

  // The account's limit used to count every address together: six wrong codes from anywhere kept
  // the owner out for 15 minutes. Each address now has its own five.
  it('lets the owner in after others tried wrong codes for the account from a few addresses', () => withServer(async (id) => {
    const { browser } = await signedInUser(id, { username: 'targeted' });
    const { codes } = await makeCodes(browser);
    for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4']) {
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push((await recoverFrom(id, ip, 'targeted', `zzzz-zzzz-zzz${i}`)).status);
      assert.deepEqual(statuses, [400, 400, 400, 400, 400, 429, 429], `attempts from ${ip}`);
    }
    assert.equal((await recoverFrom(id, '203.0.113.7', 'targeted', codes[0])).status, 303);
  }));

  // A host is usually given a whole IPv6 /64 and can send each attempt from a new address in it:
  // counted per address, six wrong codes from six of them were six first attempts.
  it('counts the addresses of one IPv6 /64 as one address, and keeps each full address in the audit log', () => withServer(async (id) => {
    const { user, browser } = await signedInUser(id, { username: 'sixtyfour' });
    const { codes } = await makeCodes(browser);
    const oneHost = ['2001:db8:5:7::1', '2001:db8:5:7::2', '2001:db8:5:7:a::9', '2001:DB8:5:7:ffff:1:2:3', '2001:0db8:0005:0007:0000:0000:0000:0042', '2001:db8:5:7:1234::'];
    const statuses = [];
    for (const [i, ip] of oneHost.entries()) statuses.push((await recoverFrom(id, ip, 'sixtyfour', `zzzz-zzzz-zzz${i}`)).status);
    assert.deepEqual(statuses, [400, 400, 400, 400, 400, 429]);
    // the next /64 is someone else, and the owner there gets in
    assert.equal((await recoverFrom(id, '2001:db8:5:8::1', 'sixtyfour', codes[0])).status, 303);
    const failed = await id.services.identity.audit.list({ userId: user.id, event: 'recovery_code_failed' });
    assert.deepEqual(failed.map((entry) => entry.ip).sort(), oneHost.slice(0, 5).sort());
  }));

  // Enough to lock the owner out takes twenty addresses in one window (five each, at most twenty
  // each over all accounts); each guess has a 10 in 2^60 chance (recovery-limits.ts).
  it('stops every address once an account has had 100 attempts in 15 minutes, known or not, in the same words', () => withServer(async (id) => {
    const { user, browser } = await signedInUser(id, { username: 'besieged' });
    const { codes } = await makeCodes(browser);
    const answers = async (login: string, lastCode: string) => {
      const statuses = [];
      for (let n = 0; n < 20; n++)
        for (let i = 0; i < 5; i++) statuses.push((await recoverFrom(id, `198.51.100.${n}`, login, `zzzz-zzzz-zz${n % 10}${i}`)).status);
      const last = await recoverFrom(id, '203.0.113.7', login, lastCode);
      return { statuses: [...statuses, last.status], message: /<p role="alert"[^>]*>([^<]+)<\/p>/.exec(await last.text())?.[1] };
    };
    const known = await answers('besieged', codes[0]);
    const unknown = await answers('nobody-at-all', codes[0]);
    assert.deepEqual(known.statuses, [...Array(100).fill(400), 429]);
    assert.deepEqual(unknown, known, 'an unknown account answers the same');
    assert.match(known.message ?? '', /Too many attempts/);
    assert.equal((await id.services.identity.recoveryCodes.status(user.id)).unused, 10, 'the right code was not spent');
    assert.equal((await id.services.identity.audit.list({ userId: user.id, event: 'recovery_code_rate_limited' })).length, 1);
  }));
});
