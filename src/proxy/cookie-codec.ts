// The session cookie: JSON sealed with AES-256-GCM under a key derived from --cookie-secret, the
// cookie name as associated data (a value sealed for the CSRF cookie cannot pass as a session),
// base64url. Browsers drop cookies over ~4096 bytes, so, like oauth2-proxy, a value whose
// Set-Cookie line would pass 4000 characters is split into NAME_0, NAME_1, … and joined on read.
import { open, seal, sealingKey } from '../core/crypto.ts';
import { type CookieAttributes, serializeCookie } from './cookie-header.ts';
import { type Session, sessionFromJson, sessionToJson } from './session.ts';

export const MAX_COOKIE_LENGTH = 4000;

export interface CookieCodec {
  readonly name: string;
  /** The Set-Cookie lines that store `session`, and clear parts the browser sent that are no longer used. */
  write(session: Session, attrs: CookieAttributes, maxAgeSeconds: number, nowMs: number, sent: ReadonlyMap<string, string>): string[];
  /** The session in the cookies sent, or null when absent, tampered with, truncated or sealed with another key. */
  read(sent: ReadonlyMap<string, string>): Session | null;
  /** Set-Cookie lines that delete the session cookie and every part of it the browser sent. */
  clear(attrs: CookieAttributes, sent: ReadonlyMap<string, string>): string[];
}

// Opening a session (AES-GCM, then JSON) is most of an auth check's own CPU, and a browser sends
// the same cookie for every file of a page, so the codec remembers what recent values opened to.
// A value opens to the same session every time (authenticated encryption, no other input), so no
// answer changes: expiry and revocations are still checked on every request (decide()). Only
// values that opened are kept (forged cookies cannot fill it); oldest out first; frozen, so one
// request cannot change another's session.
const OPENED_LIMIT = 256;

export function createCookieCodec(name: string, secret: Buffer): CookieCodec {
  const key = sealingKey(secret, 'proxy-session');
  const opened = new Map<string, Session>();
  const associatedData = Buffer.from(name);
  const partPattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_(\\d+)$`);
  const sentNames = (sent: ReadonlyMap<string, string>) =>
    [...sent.keys()].filter((cookieName) => cookieName === name || partPattern.test(cookieName));

  return {
    name,
    write(session, attrs, maxAgeSeconds, nowMs, sent) {
      const value = seal(key, Buffer.from(sessionToJson(session)), associatedData).toString('base64url');
      const whole = serializeCookie(name, value, attrs, maxAgeSeconds, nowMs);
      const lines: string[] = [];
      const written = new Set<string>();
      if (whole.length <= MAX_COOKIE_LENGTH) {
        lines.push(whole);
        written.add(name);
      } else {
        // Room for the value in each part: the limit minus the longest name and the attributes.
        const overhead = serializeCookie(`${name}_99`, '', attrs, maxAgeSeconds, nowMs).length;
        const chunk = MAX_COOKIE_LENGTH - overhead;
        for (let i = 0, start = 0; start < value.length; i++, start += chunk) {
          lines.push(serializeCookie(`${name}_${i}`, value.slice(start, start + chunk), attrs, maxAgeSeconds, nowMs));
          written.add(`${name}_${i}`);
        }
      }
      for (const stale of sentNames(sent)) if (!written.has(stale)) lines.push(serializeCookie(stale, '', attrs, 0, nowMs));
      return lines;
    },
    read(sent) {
      let value = sent.get(name);
      if (value === undefined) {
        const parts: string[] = [];
        for (let i = 0; ; i++) {
          const part = sent.get(`${name}_${i}`);
          if (part === undefined) break;
          parts.push(part);
        }
        if (parts.length === 0) return null;
        value = parts.join('');
      }
      const known = opened.get(value);
      if (known) return known;
      if (!/^[A-Za-z0-9_-]+$/.test(value)) return null;
      const plaintext = open(key, Buffer.from(value, 'base64url'), associatedData);
      const session = plaintext ? sessionFromJson(plaintext.toString('utf8')) : null;
      if (!session) return null;
      if (opened.size >= OPENED_LIMIT) opened.delete(opened.keys().next().value!);
      Object.freeze(session.groups);
      opened.set(value, Object.freeze(session));
      return session;
    },
    clear(attrs, sent) {
      const names = sentNames(sent);
      if (!names.includes(name)) names.unshift(name);
      return names.map((cookieName) => serializeCookie(cookieName, '', attrs, 0, 0));
    },
  };
}
