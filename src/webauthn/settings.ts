import type { Clock } from '../core/clock.ts';
import type { Db } from '../storage/database.ts';
import type { EphemeralStore } from '../storage/ephemeral-store.ts';

export interface WebauthnDeps {
  /** The RP ID: APP_URL's host name (WebAuthn §4 "RP ID": the origin's host or a registrable suffix of it). */
  rpId: string;
  /** Shown by the authenticator when a passkey is created. */
  rpName: string;
  /** APP_URL's origin, e.g. https://id.example.com; clientDataJSON.origin must equal it exactly. */
  origin: string;
  store: EphemeralStore;
  db: Db;
  clock: Clock;
  /** How long a started ceremony may take; WebAuthn §15.1 recommends 300 s to 600 s. */
  challengeTtlSeconds?: number;
}

export type WebauthnSettings = Required<WebauthnDeps>;

export const DEFAULT_CHALLENGE_TTL_SECONDS = 300;
