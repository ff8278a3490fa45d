// HTTP for the passkey ceremonies. The identity server decides who may register (a session or a
// setup link) and what a finished ceremony leads to (a session, a redirect), through callbacks;
// this file only moves JSON between the browser and the ceremony functions, and keeps each
// ceremony's browser secret in a cookie (ceremony-flow.ts says why). Needs @fastify/cookie.
import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AddressRateLimit } from '../core/address-rate-limit.ts';
import { isFlowId } from './ceremony-flow.ts';
import { tooManySignInStarts } from './errors.ts';
import type { Passkey, PasskeyLogin, Registrant, ReturnedFlow, StartedFlow, Webauthn } from './index.ts';

export interface WebauthnRoutesOptions {
  webauthn: Webauthn;
  /** APP_URL is https: the ceremony cookies are Secure and get the __Secure- prefix. */
  secureCookies: boolean;
  /** Who is registering a passkey now; throws an AppError when nobody may (no session, no valid link). */
  resolveRegistrant(request: FastifyRequest): Promise<Registrant>;
  /** Returns the response body (e.g. `{ redirectTo }`), or the reply when it sent one itself. */
  onRegistered(request: FastifyRequest, reply: FastifyReply, passkey: Passkey, registrant: Registrant): unknown;
  /** Starts the session; returns the response body (e.g. `{ redirectTo }`), or the reply when it sent one itself. */
  onLogin(request: FastifyRequest, reply: FastifyReply, login: PasskeyLogin): unknown;
  /** Counts sign-in starts per client address (login-rate-limit.ts); without it nothing is counted. */
  loginStartRateLimit?: AddressRateLimit;
}

/** A WebAuthn response is a few kilobytes (an RSA key is the largest part); anything bigger is not one. */
const BODY_LIMIT_BYTES = 64 * 1024;

const startBody = { type: 'object', additionalProperties: false, properties: {} } as const;
// A start needs no input, so a POST without a body (a bare fetch) counts as `{}`.
const emptyBodyIsObject = async (request: FastifyRequest) => { request.body ??= {}; };

const flowId = { type: 'string', minLength: 1, maxLength: 64 } as const;
// The credential's inner shape is checked by the ceremony itself (response-shape.ts).
const credential = { type: 'object' } as const;

const loginFinishBody = {
  type: 'object',
  required: ['flowId', 'response'],
  additionalProperties: false,
  properties: { flowId, response: credential },
} as const;

const registerFinishBody = {
  type: 'object',
  required: ['flowId', 'response'],
  additionalProperties: false,
  properties: { flowId, response: credential, name: { type: 'string', maxLength: 256 } },
} as const;

interface FinishBody { flowId: string; response: unknown; name?: string }

// One cookie per started ceremony, named after its flow id: several tabs signing in at once (or a
// sign-in in one and "Add a passkey" in another) each keep their own, where one shared cookie
// would hold only the last start's secret. Path /api/webauthn/: sent to these endpoints only, never
// with pages. That path rules out __Host- (it needs Path=/), so on https the prefix is __Secure-:
// only a secure page can set such a cookie. SameSite=Strict: only our own pages call these
// endpoints, with same-origin fetches, which carry Strict cookies even on a page reached from
// another site (the sign-in page an app redirected to); the CSRF cookie they need is Strict too.
const COOKIE_PATH = '/api/webauthn/';
const cookiePrefix = (secure: boolean) => (secure ? '__Secure-latchkey_webauthn_' : 'latchkey_webauthn_');
// A ceremony cancelled in the browser leaves its cookie until it expires (the challenge's TTL). A
// browser holding this many already loses its oldest at the next start, so pressing the button
// again and again cannot grow the Cookie header past what a reverse proxy accepts (nginx: 8 KiB).
const MAX_PENDING_CEREMONIES = 8;

export async function webauthnRoutes(app: FastifyInstance, options: WebauthnRoutesOptions): Promise<void> {
  const { webauthn, secureCookies } = options;
  const route = { bodyLimit: BODY_LIMIT_BYTES };
  const prefix = cookiePrefix(secureCookies);
  const cookieOptions = { path: COOKIE_PATH, httpOnly: true, secure: secureCookies, sameSite: 'strict' } as const;

  // Challenges and results are for this one browser and this one moment: never cache them.
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  /** Gives the browser the ceremony's secret as a cookie; the JSON answer gets the rest. */
  function bindToBrowser<T extends StartedFlow>(request: FastifyRequest, reply: FastifyReply, { browserSecret, ...started }: T): Omit<T, 'browserSecret'> {
    // Oldest first: browsers list cookies of the same path in the order they were made (RFC 6265 §5.4).
    const pending = Object.keys(request.cookies).filter((name) => name.startsWith(prefix) && isFlowId(name.slice(prefix.length)));
    for (const name of pending.slice(0, Math.max(0, pending.length - MAX_PENDING_CEREMONIES + 1))) reply.clearCookie(name, cookieOptions);
    reply.setCookie(prefix + started.flowId, browserSecret, { ...cookieOptions, maxAge: webauthn.challengeTtlSeconds });
    return started;
  }

  /** The flow the browser names, with the secret its cookie holds; the cookie is cleared, as the flow is spent. */
  function returnedFlow(request: FastifyRequest<{ Body: FinishBody }>, reply: FastifyReply): ReturnedFlow {
    const { flowId } = request.body;
    const name = prefix + flowId;
    const browserSecret = isFlowId(flowId) ? request.cookies[name] : undefined;
    if (browserSecret !== undefined) reply.clearCookie(name, cookieOptions);
    return { flowId, browserSecret };
  }

  app.post('/api/webauthn/login/start', { ...route, preValidation: emptyBodyIsObject, schema: { body: startBody } }, async (request, reply) => {
    noStore(reply);
    // Counted before anything is kept: a refused start stores no challenge. request.ip is the
    // client's address as TRUST_PROXY allows (id-app.ts), never a raw X-Forwarded-For.
    const limited = await options.loginStartRateLimit?.count(request.ip, request.socket.remoteAddress);
    if (limited?.refused) {
      reply.header('retry-after', String(limited.retryAfterSeconds));
      throw tooManySignInStarts();
    }
    return bindToBrowser(request, reply, await webauthn.startLogin());
  });

  app.post<{ Body: FinishBody }>('/api/webauthn/login/finish', { ...route, schema: { body: loginFinishBody } }, async (request, reply) => {
    noStore(reply);
    const login = await webauthn.finishLogin(returnedFlow(request, reply), request.body.response);
    return options.onLogin(request, reply, login);
  });

  app.post('/api/webauthn/register/start', { ...route, preValidation: emptyBodyIsObject, schema: { body: startBody } }, async (request, reply) => {
    noStore(reply);
    const registrant = await options.resolveRegistrant(request);
    return bindToBrowser(request, reply, await webauthn.startRegistration(registrant));
  });

  app.post<{ Body: FinishBody }>('/api/webauthn/register/finish', { ...route, schema: { body: registerFinishBody } }, async (request, reply) => {
    noStore(reply);
    // Asked again, not remembered from the start: whoever finishes must still be allowed to, and
    // the flow refuses a different account than the one it was started for.
    const registrant = await options.resolveRegistrant(request);
    const passkey = await webauthn.finishRegistration(returnedFlow(request, reply), request.body.response, { userId: registrant.userId, name: request.body.name });
    return options.onRegistered(request, reply, passkey, registrant);
  });
}
