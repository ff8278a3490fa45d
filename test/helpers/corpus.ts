import { existsSync, readFileSync } from 'node:fs';

// The shared attack corpus (oauth2-proxy's public open-redirect and email-domain cases, MIT; its
// "about" field says where each case comes from), copied from the team's shared/corpus/ into
// test/fixtures so that a clone alone runs every test. LATCHKEY_CORPUS points at another copy (a
// newer shared/ one). Missing, it fails loudly: these tests never skip.
const DEFAULT = new URL('../fixtures/corpus/redirects-and-emails.json', import.meta.url).pathname;

interface Case { value: string }
export interface RedirectCorpus {
  site: string;
  redirect_open: Case[];
  redirect_policy_dependent: Case[];
  redirect_double_decode_canaries: Case[];
  redirect_uri_mismatch: Case[];
  email_domain_bypass: Case[];
  email_domain_ok: Case[];
  [key: string]: unknown;
}

export function loadRedirectCorpus(): RedirectCorpus {
  const path = process.env.LATCHKEY_CORPUS ?? DEFAULT;
  if (!existsSync(path))
    throw new Error(`the shared attack corpus is missing at ${path}: restore test/fixtures/corpus/, or set LATCHKEY_CORPUS`);
  return JSON.parse(readFileSync(path, 'utf8')) as RedirectCorpus;
}
