import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';

// oidc-provider sees only Node's raw request. Our hooks (the session check in the interaction
// policy, audit events) need fastify's request: its cookies, and its `ip` as TRUST_PROXY allows.
// routes.ts records the pair before handing the raw request over; the entry dies with the request.
const requests = new WeakMap<IncomingMessage, FastifyRequest>();

export const rememberRequest = (request: FastifyRequest): void => {
  requests.set(request.raw, request);
};

export const requestFor = (raw: IncomingMessage | undefined): FastifyRequest | undefined => (raw ? requests.get(raw) : undefined);
