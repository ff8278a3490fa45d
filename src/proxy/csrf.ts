// The CSRF cookie of one sign-in attempt: state, nonce, PKCE verifier and the validated redirect,
// sealed (AES-256-GCM, cookie name as associated data), living cookie.csrfExpireSeconds.
// With --cookie-csrf-per-request each attempt gets its own cookie name derived from its state,
// as oauth2-proxy does, so sign-ins started in several tabs do not overwrite each other.
import { open, seal, sealingKey, sha256Base64url } from '../core/crypto.ts';
import type { ProxyConfig } from './config.ts';
import { type CookieAttributes, serializeCookie } from './cookie-header.ts';

export interface SignInAttempt {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirect: string;
  /** Epoch seconds. */
  expiresAt: number;
}

export interface CsrfCookies {
  nameFor(state: string): string;
  write(attempt: SignInAttempt, attrs: CookieAttributes, nowMs: number): string;
  /** The attempt for `state` if its cookie was sent, opens, matches and has not expired. */
  read(sent: ReadonlyMap<string, string>, state: string, nowSeconds: number): SignInAttempt | null;
  clear(state: string, attrs: CookieAttributes): string;
}

export function createCsrfCookies(cookie: ProxyConfig['cookie']): CsrfCookies {
  const key = sealingKey(cookie.secret, 'proxy-csrf');
  const nameFor = (state: string) =>
    cookie.csrfPerRequest ? `${cookie.name}_${sha256Base64url(state).slice(0, 16)}_csrf` : `${cookie.name}_csrf`;

  return {
    nameFor,
    write(attempt, attrs, nowMs) {
      const name = nameFor(attempt.state);
      const value = seal(key, Buffer.from(JSON.stringify(attempt)), Buffer.from(name)).toString('base64url');
      return serializeCookie(name, value, attrs, cookie.csrfExpireSeconds, nowMs);
    },
    read(sent, state, nowSeconds) {
      if (!state) return null;
      const name = nameFor(state);
      const value = sent.get(name);
      if (!value || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
      const plaintext = open(key, Buffer.from(value, 'base64url'), Buffer.from(name));
      if (!plaintext) return null;
      let attempt: SignInAttempt;
      try {
        attempt = JSON.parse(plaintext.toString('utf8'));
      } catch {
        return null;
      }
      // The state in the URL must be the one this browser's cookie was made for (RFC 6749 §10.12).
      if (attempt.state !== state || !(nowSeconds < attempt.expiresAt)) return null;
      return attempt;
    },
    clear(state, attrs) {
      return serializeCookie(nameFor(state), '', attrs, 0, 0);
    },
  };
}
