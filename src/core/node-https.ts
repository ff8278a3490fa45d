// node:https, loaded at its first use. It brings Node's TLS stack (~5 MB RSS), which a process
// that listens, proxies and talks to its provider over plain HTTP never needs: the usual
// `latchkey proxy` behind nginx with --oidc-internal-url, or `latchkey serve` without --tls-*
// (docs/benchmarks.md, lever 24). latchkey's sources take node:https's values from here.
import type * as Https from 'node:https';

export const loadHttps = (): typeof Https => process.getBuiltinModule('node:https');
