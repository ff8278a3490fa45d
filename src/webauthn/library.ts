// @simplewebauthn/server, loaded at the first passkey ceremony instead of at start. With the
// certificate parsers it brings for attestation (@peculiar/*, asn1js, whose decorators build their
// schemas as the modules load) it is ~3.7 MB of heap and ~0.3 s of start-up that `latchkey id`
// or `serve` need not spend before anyone signs in (docs/benchmarks.md, "Memory").
type SimpleWebauthn = typeof import('@simplewebauthn/server');

let loading: Promise<SimpleWebauthn> | undefined;

export const simpleWebauthn = (): Promise<SimpleWebauthn> => (loading ??= import('@simplewebauthn/server'));
