// A ceremony in progress: its challenge, what it is for and, for a registration, whose it is.
// Kept in the ephemeral store under a random flow id and taken (read and deleted at once) when the
// response arrives, so a replayed response finds nothing (WebAuthn §13.4.3: challenges are single use).
//
// The flow id travels in JSON, so whoever sees that JSON and the signed response (an extension, a
// script on another page of the origin, a logging proxy) could otherwise finish the ceremony in a
// browser of their own and get the session. Each flow is therefore bound to the browser that
// started it, as a challenge kept in the user's own session would be: a fresh secret goes to that
// browser only (an HttpOnly cookie, routes.ts), the flow keeps only its SHA-256, and the finish
// must present the secret.
import { sha256Base64url, timingSafeEqualStrings } from '../core/crypto.ts';
import { randomId, randomToken } from '../core/random.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import { challengeExpired, flowMismatch, otherBrowser } from './errors.ts';

export type CeremonyPurpose = 'registration' | 'login';

export interface CeremonyFlow {
  purpose: CeremonyPurpose;
  challenge: string;
  /** The account a registration was started for; absent for a usernameless login. */
  userId?: string;
}

interface StoredFlow extends CeremonyFlow {
  /** SHA-256 of the browser secret: the store never holds the secret itself. */
  browserSecretHash: string;
}

/** What a started ceremony hands to the browser: the id in the JSON, the secret in a cookie only. */
export interface StartedFlow {
  flowId: string;
  browserSecret: string;
}

/** What comes back with the response: `browserSecret` is undefined when the browser sent none. */
export interface ReturnedFlow {
  flowId: unknown;
  browserSecret: string | undefined;
}

const keyOf = (flowId: string) => `webauthn:flow:${flowId}`;
const FLOW_ID = /^[A-Za-z0-9_-]{16,64}$/;

/** Whether `value` has the shape of a flow id (so it can be part of a cookie name). */
export const isFlowId = (value: unknown): value is string => typeof value === 'string' && FLOW_ID.test(value);

export async function saveFlow(store: EphemeralStore, flow: CeremonyFlow, ttlSeconds: number): Promise<StartedFlow> {
  const flowId = randomId();
  const browserSecret = randomToken(32);
  const stored: StoredFlow = { ...flow, browserSecretHash: sha256Base64url(browserSecret) };
  await store.put(keyOf(flowId), JSON.stringify(stored), ttlSeconds);
  return { flowId, browserSecret };
}

/**
 * Takes the flow and checks it came back from the browser that started it and is the ceremony the
 * caller is finishing (and, for a registration, the same account). The flow is spent whatever the
 * outcome: a refused attempt cannot be tried again with another secret.
 */
export async function takeFlow(store: EphemeralStore, returned: ReturnedFlow, expected: { purpose: CeremonyPurpose; userId?: string }): Promise<CeremonyFlow> {
  if (!isFlowId(returned.flowId)) throw challengeExpired();
  const stored = await store.take(keyOf(returned.flowId));
  if (stored === null) throw challengeExpired();
  const { browserSecretHash, ...flow } = JSON.parse(stored) as Partial<StoredFlow> & CeremonyFlow;
  // A flow saved before flows were bound has no hash, and is refused like a wrong secret.
  const presented = returned.browserSecret === undefined ? null : sha256Base64url(returned.browserSecret);
  if (presented === null || typeof browserSecretHash !== 'string' || !timingSafeEqualStrings(presented, browserSecretHash)) throw otherBrowser();
  if (flow.purpose !== expected.purpose) throw flowMismatch();
  if (expected.purpose === 'registration' && flow.userId !== expected.userId) throw flowMismatch();
  return flow;
}
