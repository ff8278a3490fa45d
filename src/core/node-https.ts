// node:https, loaded at its first use. It brings Node's TLS stack (~3 MB RSS, more once handshakes
// have run), which a process that listens, proxies and talks to its provider over plain HTTP never
// needs: `latchkey proxy` behind nginx with an http:// --oidc-internal-url, or `latchkey serve`
// without --tls-* (docs/benchmarks.md, lever 24). latchkey's sources take node:https from here.
import type * as Https from 'node:https';

export const loadHttps = (): typeof Https => process.getBuiltinModule('node:https');
