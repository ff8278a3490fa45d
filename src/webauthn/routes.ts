// HTTP for the passkey ceremonies. The identity server decides who may register (a session or a
// setup link) and what a finished ceremony leads to (a session, a redirect), through callbacks;
// this file only moves JSON between the browser and the ceremony functions.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Passkey, PasskeyLogin, Registrant, Webauthn } from './index.ts';

export interface WebauthnRoutesOptions {
  webauthn: Webauthn;
  /** Who is registering a passkey now; throws an AppError when nobody may (no session, no valid link). */
  resolveRegistrant(request: FastifyRequest): Promise<Registrant>;
  /** Returns the response body (e.g. `{ redirectTo }`), or the reply when it sent one itself. */
  onRegistered(request: FastifyRequest, reply: FastifyReply, passkey: Passkey, registrant: Registrant): unknown;
  /** Starts the session; returns the response body (e.g. `{ redirectTo }`), or the reply when it sent one itself. */
  onLogin(request: FastifyRequest, reply: FastifyReply, login: PasskeyLogin): unknown;
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

export async function webauthnRoutes(app: FastifyInstance, options: WebauthnRoutesOptions): Promise<void> {
  const { webauthn } = options;
  const route = { bodyLimit: BODY_LIMIT_BYTES };

  // Challenges and results are for this one browser and this one moment: never cache them.
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  app.post('/api/webauthn/login/start', { ...route, preValidation: emptyBodyIsObject, schema: { body: startBody } }, async (_request, reply) => {
    noStore(reply);
    return webauthn.startLogin();
  });

  app.post<{ Body: FinishBody }>('/api/webauthn/login/finish', { ...route, schema: { body: loginFinishBody } }, async (request, reply) => {
    noStore(reply);
    const login = await webauthn.finishLogin(request.body.flowId, request.body.response);
    return options.onLogin(request, reply, login);
  });

  app.post('/api/webauthn/register/start', { ...route, preValidation: emptyBodyIsObject, schema: { body: startBody } }, async (request, reply) => {
    noStore(reply);
    const registrant = await options.resolveRegistrant(request);
    return webauthn.startRegistration(registrant);
  });

  app.post<{ Body: FinishBody }>('/api/webauthn/register/finish', { ...route, schema: { body: registerFinishBody } }, async (request, reply) => {
    noStore(reply);
    // Asked again, not remembered from the start: whoever finishes must still be allowed to, and
    // the flow refuses a different account than the one it was started for.
    const registrant = await options.resolveRegistrant(request);
    const passkey = await webauthn.finishRegistration(request.body.flowId, request.body.response, { userId: registrant.userId, name: request.body.name });
    return options.onRegistered(request, reply, passkey, registrant);
  });
}
