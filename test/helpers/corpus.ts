import { existsSync, readFileSync } from 'node:fs';

// The shared attack corpus (oauth2-proxy's public open-redirect and email-domain cases) lives in
// the team's shared/ folder beside this repository, as on every developer machine and in CI.
// LATCHKEY_CORPUS points elsewhere. Missing, it fails loudly: these tests never skip.
const DEFAULT = new URL('../../../shared/corpus/redirects-and-emails.json', import.meta.url).pathname;

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
    throw new Error(`the shared attack corpus is missing at ${path}: check out shared/ beside the repository, or set LATCHKEY_CORPUS`);
  return JSON.parse(readFileSync(path, 'utf8')) as RedirectCorpus;
}
