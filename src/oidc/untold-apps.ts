import type { Reveal } from '../web/reveal.ts';
import type { LogoutReport } from './logout-user.ts';

// Disabling or deleting a user, resetting their passkeys or removing one (admin console), and a
// user's own "Sign out everywhere" or "Sign out of this app" (/account/sessions) send each app
// concerned a back-channel logout. An app that cannot be reached (its URI does not resolve from
// this server, nothing listens there) keeps the session it holds itself (a proxy's cookie), so the
// page that follows must name it instead of saying "signed out everywhere". So must it name an app
// registered without a back-channel logout URI (the console allows it): it cannot be told at all.

/**
 * An app that was not told of a sign-out: what it is called, where it was tried (null: it has no
 * back-channel logout URI, so nothing was tried), and why not. `suggestedUri` is the URI to set on
 * an app without one that looks like a proxy (a redirect URI ending in /oauth2/callback).
 */
export interface UntoldApp {
  name: string;
  clientId: string;
  uri: string | null;
  cause: string;
  suggestedUri?: string;
}

/** The cause shown for an app that has no back-channel logout URI. */
export const NO_LOGOUT_URI = 'it has no back-channel logout URI, so it cannot be told';

/** Sealed across the redirect after the action (reveal.ts), for the page that reports it. */
export interface SignOutGaps {
  username: string;
  apps: UntoldApp[];
}

/**
 * What the page after a sign-out shows: nothing (every app was told, or no sign-out), the apps that
 * were not told, or 'unknown' when the page was sent to show them but they are no longer kept (read
 * ten minutes later, or a token that is not its reader's): then it says so without naming any.
 */
export type SignOutGapsView = SignOutGaps | 'unknown' | null | undefined;

/**
 * Where to redirect after a sign-out: `location` when every app was told; otherwise with
 * `untold=TOKEN`, under which the apps that were not are parked, sealed for `ownerId` (reveal.ts),
 * so the page that follows names them and no link can make it name others.
 */
export async function locationAfterSignOut(parked: Reveal<SignOutGaps>, ownerId: string, location: string, gaps: SignOutGaps): Promise<string> {
  if (!gaps.apps.length) return location;
  const token = await parked.park(ownerId, gaps);
  return `${location}${location.includes('?') ? '&' : '?'}untold=${token}`;
}

/** The page's side of locationAfterSignOut: `token` is the query's `untold`, absent when every app was told. */
export async function signOutGapsOf(parked: Reveal<SignOutGaps>, ownerId: string, token: string | undefined): Promise<SignOutGapsView> {
  return token === undefined ? null : (await parked.read(ownerId, token)) ?? 'unknown';
}

/**
 * The apps of a logout report that were not told (those that failed, then those without a
 * back-channel logout URI), with their names as the console lists them.
 */
export async function untoldApps(clients: { get(id: string): Promise<{ name: string; redirectUris?: readonly string[] }> }, report: LogoutReport | null | undefined): Promise<UntoldApp[]> {
  const failed = (report?.failedClients ?? []).map(async (failure): Promise<UntoldApp> => ({
    name: await clients.get(failure.clientId).then((client) => client.name, () => failure.clientId),
    clientId: failure.clientId, uri: failure.uri, cause: causeInWords(failure.reason),
  }));
  const withoutUri = (report?.clientsWithoutLogoutUri ?? []).map(async (clientId): Promise<UntoldApp> => {
    const client = await clients.get(clientId).catch(() => undefined);
    const suggestedUri = proxyLogoutUri(client?.redirectUris ?? []);
    return { name: client?.name ?? clientId, clientId, uri: null, cause: NO_LOGOUT_URI, ...suggestedUri && { suggestedUri } };
  });
  return Promise.all([...failed, ...withoutUri]);
}

/**
 * The back-channel logout URI latchkey proxy serves beside a callback it is registered with
 * (https://SITE/oauth2/callback → https://SITE/oauth2/backchannel-logout), or undefined when no
 * redirect URI is a proxy's callback.
 */
export function proxyLogoutUri(redirectUris: readonly string[]): string | undefined {
  const callback = redirectUris.find((uri) => /^https?:\/\/[^/?#]+(\/[^?#]*)?\/oauth2\/callback$/.test(uri));
  return callback?.replace(/\/oauth2\/callback$/, '/oauth2/backchannel-logout');
}

const CAUSES: [RegExp, string][] = [
  [/ENOTFOUND|EAI_AGAIN|EAI_NONAME/, 'its host name does not resolve from this server'],
  [/ECONNREFUSED/, 'nothing accepts connections at that address'],
  [/EHOSTUNREACH|ENETUNREACH/, 'its host cannot be reached from this server'],
  [/ETIMEDOUT|timeout|timed out|aborted/i, 'it did not answer in time'],
  [/ECONNRESET|socket hang up|other side closed/i, 'the connection was cut'],
  [/CERT|certificate|self[- ]signed/i, 'its TLS certificate is not trusted by this server'],
];

/**
 * The cause of a failed back-channel logout in a few words, with the system's error code when there
 * is one (a non-2xx answer is quoted as is); an error not recognised is shown as it came, shortened.
 */
export function causeInWords(reason: string): string {
  const answered = / got: (\d{3}\b.*)$/.exec(reason);
  if (answered) return `it answered ${answered[1]}`;
  const code = /\bE[A-Z_]{4,}\b/.exec(reason)?.[0];
  for (const [pattern, words] of CAUSES) if (pattern.test(reason)) return code ? `${words} (${code})` : words;
  return reason.length > 160 ? `${reason.slice(0, 159)}…` : reason;
}
