import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InteractionResults } from 'oidc-provider';
import { AppError } from '../core/errors.ts';
import type { Html } from '../web/html.ts';
import { decideAccess, refusalMessage } from './access.ts';
import { accessRefusedPage } from './pages.ts';
import type { OidcProvider } from './provider.ts';

export type InteractionOutcome =
  | { kind: 'sign_in'; location: string }
  | { kind: 'refused'; status: 403; page: Html }
  | { kind: 'continue'; location: string };

const expired = (cause?: unknown) =>
  new AppError('interaction_expired', 400, 'This sign-in attempt expired or was already used. Go back to the application and sign in again.', { cause });

/**
 * Whether the app asked for a sign-in newer than the browser's (OIDC Core §3.1.2.1: prompt=login,
 * and max_age, which the provider MUST then actively re-authenticate for). A sign-in made after
 * this interaction began is always new enough: it is the one that was asked for, and counting
 * again would send the browser round in circles (max_age=0).
 */
function wantsNewerSignIn(details: { iat?: number; params: Record<string, unknown> }, authTime: number, nowSeconds: number): boolean {
  const startedAt = details.iat ?? nowSeconds;
  if (authTime >= startedAt) return false;
  if (String(details.params.prompt ?? '').split(' ').includes('login')) return true;
  const maxAge = details.params.max_age === undefined ? null : Number(details.params.max_age);
  return maxAge !== null && nowSeconds - authTime > maxAge;
}

/**
 * An interaction remembers the provider session it began in, and oidc-provider refuses to go on
 * without it ("session not found" from interactionDetails, lib/provider.js). That session may have
 * ended since: another user signed in on this browser meanwhile (prompt=login answered with their
 * passkey), which signs the previous user out of their apps here (identity/routes.ts signIn), their
 * provider session with them. Nothing is left to check against, and the login comes from the
 * latchkey sign-in in any case, so the interaction forgets that session and resumes in a new one,
 * as oidc-provider itself drops the binding when the account changes (resume.js); without this the
 * new user's sign-in to the app ended on "This sign-in expired". A session that still exists stays
 * bound, and the interaction stays bound to its browser by its signed cookie, which
 * interactionDetails checks next.
 */
async function forgetEndedProviderSession(provider: ReturnType<OidcProvider['current']>, uid: string): Promise<void> {
  const interaction = await provider.Interaction.find(uid);
  const sessionUid = interaction?.session?.uid;
  if (!interaction || !sessionUid || await provider.Session.findByUid(sessionUid)) return;
  interaction.session = undefined;
  await interaction.persist();
}

/**
 * What /interaction/:uid does (oidc-provider's interaction contract):
 * - nobody is signed in to latchkey → send the browser to the passkey sign-in, which returns here;
 * - the app asked for a newer sign-in than the browser's (prompt=login, max_age) → the same, with
 *   the sign-in page asking for a passkey although the browser is signed in;
 * - the account is disabled, or not in the client's groups → a page saying so (never a redirect,
 *   which would only loop back here);
 * - otherwise → finish the login and grant what the client asked for without a consent screen
 *   (first-party applications, as Pocket ID does), and continue the authorization request.
 */
export async function resolveInteraction(
  oidc: OidcProvider,
  input: { uid: string; signIn: { userId: string; authTime: number } | null; req: IncomingMessage; res: ServerResponse; ip: string | null; userAgent: string | null },
): Promise<InteractionOutcome> {
  const provider = oidc.current();
  await forgetEndedProviderSession(provider, input.uid);
  const details = await provider.interactionDetails(input.req, input.res).catch((error) => { throw expired(error); });
  if (details.uid !== input.uid) throw expired();
  if (!input.signIn) return { kind: 'sign_in', location: oidc.deps.loginUrl(details.uid) };
  if (wantsNewerSignIn(details, input.signIn.authTime, Math.floor(oidc.deps.clock.nowMs() / 1000)))
    return { kind: 'sign_in', location: oidc.deps.loginUrl(details.uid, { again: true }) };
  const { userId, authTime } = input.signIn;

  const clientId = String(details.params.client_id);
  const client = await provider.Client.find(clientId);
  if (!client) throw expired();
  const decision = await decideAccess(oidc.deps.db, userId, clientId);
  if (decision.kind === 'refused') {
    await oidc.deps.audit({ event: 'oidc_access_refused', userId, clientId, ip: input.ip, userAgent: input.userAgent, details: { reason: decision.reason } });
    return { kind: 'refused', status: 403, page: accessRefusedPage({ clientName: client.clientName ?? clientId, message: refusalMessage(decision.reason, client.clientName ?? clientId) }) };
  }

  // A grant of the provider session's previous user is never reused for another user.
  const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const grant = existing && existing.accountId === userId && existing.clientId === clientId
    ? existing : new provider.Grant({ accountId: userId, clientId });
  grant.addOIDCScope(String(details.params.scope ?? 'openid'));
  const missingResourceScopes = (details.prompt.details.missingResourceScopes ?? {}) as Record<string, string[]>;
  for (const [indicator, scopes] of Object.entries(missingResourceScopes)) grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();

  // The login carries the time of the browser's sign-in, never "now": auth_time must say when the
  // passkey (or link, or recovery code) was used, which is what an app's max_age is about.
  const needsLogin = details.prompt.name === 'login' || details.session?.accountId !== userId;
  const result: InteractionResults = { consent: { grantId }, ...(needsLogin ? { login: { accountId: userId, ts: authTime } } : {}) };
  const location = await provider.interactionResult(input.req, input.res, result, { mergeWithLastSubmission: false });
  if (needsLogin)
    await oidc.deps.audit({ event: 'oidc_login', userId, clientId, ip: input.ip, userAgent: input.userAgent });
  return { kind: 'continue', location };
}
