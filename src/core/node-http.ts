// node:http, without the 13 MB that `import … from 'node:http'` costs.
//
// An ES module import of a built-in makes a namespace of all its exports, and reads each one to do
// so. Three of node:http's exports (WebSocket, CloseEvent, MessageEvent) are getters that load
// undici, Node's whole fetch and WebSocket client: measured on Node 24.21, a module holding only
// `import 'node:http'` has 57 MB RSS and one using `process.getBuiltinModule('node:http')` 44 MB.
// No other built-in does this (each checked the same way). latchkey's sources import node:http's
// values from here (eslint.config.js enforces it; `import type` stays as it is), and the bundle
// sends any package's `import … from 'node:http'` here too (scripts/bundle-plugins.ts).
import type * as Http from 'node:http';

const http: typeof Http = process.getBuiltinModule('node:http');

export const { Agent, createServer, request, STATUS_CODES, validateHeaderName, validateHeaderValue } = http;
