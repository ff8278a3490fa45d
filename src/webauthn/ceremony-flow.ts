// A ceremony in progress: its challenge, what it is for and, for a registration, whose it is.
// Kept in the ephemeral store under a random flow id and taken (read and deleted at once) when the
// response arrives, so a replayed response finds nothing (WebAuthn §13.4.3: challenges are single use).
import { randomId } from '../core/random.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';
import { challengeExpired, flowMismatch } from './errors.ts';

export type CeremonyPurpose = 'registration' | 'login';

export interface CeremonyFlow {
  purpose: CeremonyPurpose;
  challenge: string;
  /** The account a registration was started for; absent for a usernameless login. */
  userId?: string;
}

const keyOf = (flowId: string) => `webauthn:flow:${flowId}`;
const FLOW_ID = /^[A-Za-z0-9_-]{16,64}$/;

export async function saveFlow(store: EphemeralStore, flow: CeremonyFlow, ttlSeconds: number): Promise<string> {
  const flowId = randomId();
  await store.put(keyOf(flowId), JSON.stringify(flow), ttlSeconds);
  return flowId;
}

/** Takes the flow and checks it is the ceremony the caller is finishing (and, for a registration, the same account). */
export async function takeFlow(store: EphemeralStore, flowId: unknown, expected: { purpose: CeremonyPurpose; userId?: string }): Promise<CeremonyFlow> {
  if (typeof flowId !== 'string' || !FLOW_ID.test(flowId)) throw challengeExpired();
  const stored = await store.take(keyOf(flowId));
  if (stored === null) throw challengeExpired();
  const flow = JSON.parse(stored) as CeremonyFlow;
  if (flow.purpose !== expected.purpose) throw flowMismatch();
  if (expected.purpose === 'registration' && flow.userId !== expected.userId) throw flowMismatch();
  return flow;
}
