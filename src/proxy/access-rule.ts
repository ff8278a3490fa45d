// Who may pass: the configured rules (--email-domain, --authenticated-emails-file,
// --allowed-group) and the per-location rules nginx/Caddy put in the /oauth2/auth query string
// (allowed_groups, allowed_emails, allowed_email_domains, comma-separated, as oauth2-proxy reads them).
import type { EmailAllowList } from '../config/authenticated-emails-file.ts';
import type { ProxyConfig } from './config.ts';

export interface AccessRule {
  /** Configured email domains ('*' = any); an email passes these OR authenticatedEmails. */
  emailDomains: readonly string[];
  /** --authenticated-emails-file's addresses, lower-cased (kept up to date with the file), or null. */
  authenticatedEmails: EmailAllowList | null;
  /** Configured groups: the user must be in one of them (when not empty). */
  allowedGroups: readonly string[];
  /** Per-request rules; each one present must pass (one match within it is enough). */
  queryGroups: readonly string[] | null;
  queryEmails: readonly string[] | null;
  queryEmailDomains: readonly string[] | null;
}

export type ConfiguredRule = Pick<AccessRule, 'emailDomains' | 'authenticatedEmails' | 'allowedGroups'>;

/** `authenticatedEmails`: the live list of --authenticated-emails-file, or null without one. */
export const configuredRule = (config: ProxyConfig, authenticatedEmails: EmailAllowList | null): ConfiguredRule => ({
  emailDomains: config.emailDomains.map((d) => d.toLowerCase()),
  authenticatedEmails,
  allowedGroups: config.allowedGroups,
});

/**
 * One query rule as oauth2-proxy reads it (oauthproxy.go extractAllowedEntities): every value of
 * the parameter (allowed_groups=a&allowed_groups=b is a or b), split at commas, empty entries
 * dropped; a rule left with no entry is no rule (allowed_groups= restricts nothing there).
 */
const list = (values: string[]): string[] | null => {
  const items = values.flatMap((value) => value.split(',')).map((item) => item.trim()).filter(Boolean);
  return items.length > 0 ? items : null;
};

/** Adds the query-string rules of one /oauth2/auth request to the configured ones. */
export function ruleWithQuery(base: ConfiguredRule, query: URLSearchParams | null): AccessRule {
  if (!query) return { ...base, queryGroups: null, queryEmails: null, queryEmailDomains: null };
  return {
    ...base,
    queryGroups: list(query.getAll('allowed_groups')),
    queryEmails: list(query.getAll('allowed_emails'))?.map((e) => e.toLowerCase()) ?? null,
    queryEmailDomains: list(query.getAll('allowed_email_domains'))?.map((d) => d.toLowerCase()) ?? null,
  };
}

// One local part, one '@', one domain: "attacker@evil.com@example.com" is not an address at example.com.
const ADDRESS = /^[^@\s]+@([^@\s]+)$/;

/**
 * Whether `email` is at one of the --email-domain `domains`: 'example.com' is that domain only;
 * '.example.com' and '*.example.com' are its subdomains only (oauth2-proxy's validator.go,
 * isEmailValidWithDomains); '*' is anything.
 *
 * '*' also passes an account with no email, identified by its subject alone. oauth2-proxy refuses
 * such a sign-in whatever the rules (providers/oidc.go EnrichSession); latchkey id and Pocket ID
 * have users without an email, and '*' means any account the provider signs in (`latchkey serve`
 * relies on it). No email is made up for it, so an application that goes by the email headers
 * finds none; every rule about emails (a domain, the emails file, the query rules) refuses it.
 */
export function emailInDomains(email: string, domains: readonly string[]): boolean {
  if (domains.includes('*')) return true;
  const match = ADDRESS.exec(email.toLowerCase());
  if (!match) return false;
  const domain = match[1];
  for (const raw of domains) {
    const rule = raw.startsWith('*.') ? raw.slice(1) : raw;
    if (rule.startsWith('.') ? domain.endsWith(rule) && domain.length > rule.length : domain === rule) return true;
  }
  return false;
}

/**
 * Whether `email` passes an allowed_email_domains query rule. oauth2-proxy checks these with
 * another function than --email-domain (oauthproxy.go checkAllowedEmailDomains →
 * pkg/util/util.go IsEndpointAllowed, the one --whitelist-domain uses), where '.example.com' and
 * '*.example.com' are the domain and its subdomains, and '*' is no domain at all.
 */
export function emailInAllowedDomains(email: string, domains: readonly string[]): boolean {
  const match = ADDRESS.exec(email.toLowerCase());
  if (!match) return false;
  const domain = match[1];
  for (const raw of domains) {
    const rule = raw.startsWith('*.') ? raw.slice(1) : raw;
    if (domain === (rule.startsWith('.') ? rule.slice(1) : rule)) return true;
    if (rule.startsWith('.') && domain.endsWith(rule)) return true;
  }
  return false;
}

/** oauth2-proxy's validator: a configured domain OR an authenticated email. */
export function emailAllowedByConfig(email: string, rule: ConfiguredRule): boolean {
  if (emailInDomains(email, rule.emailDomains)) return true;
  return rule.authenticatedEmails !== null && rule.authenticatedEmails.has(email.toLowerCase());
}

const inAny = (groups: readonly string[], allowed: readonly string[]) => allowed.some((g) => groups.includes(g));

/** Why `identity` may not pass `rule`, or null when it may. */
export function refusalReason(identity: { email: string; groups: readonly string[] }, rule: AccessRule): string | null {
  if (!emailAllowedByConfig(identity.email, rule)) return 'email not allowed';
  if (rule.allowedGroups.length > 0 && !inAny(identity.groups, rule.allowedGroups)) return 'not in an allowed group';
  if (rule.queryGroups && !inAny(identity.groups, rule.queryGroups)) return 'not in allowed_groups';
  if (rule.queryEmails && !rule.queryEmails.includes(identity.email.toLowerCase())) return 'not in allowed_emails';
  if (rule.queryEmailDomains && !emailInAllowedDomains(identity.email, rule.queryEmailDomains)) return 'not in allowed_email_domains';
  return null;
}
