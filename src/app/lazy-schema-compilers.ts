// fastify compiles every route's JSON schema with Ajv when the server starts, which loads Ajv
// (~360 KB of code) and keeps its compiled validators, although most of a day `latchkey serve`
// answers protected pages and never validates a body. These compiler factories do the same
// compilation, with the same Ajv options, the first time a route validates a request instead.
//
// A validator stands in for Ajv's exactly: fastify reads `schemaEnv` (to let Ajv coerce the root
// value) and `errors` (after a failed check) from the function it was given; both are forwarded
// to the compiled one. A schema Ajv refuses now fails at the route's first request, not at start;
// test/unit/lazy-schema-compilers.test.ts compiles every route's schema to keep that from hiding.
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type Compiled = ((data: unknown, context?: unknown) => unknown) & { schemaEnv?: unknown; errors?: unknown };
type Factory<F> = (externalSchemas: unknown, options: unknown) => (route: unknown) => F;
type BuildValidator = Factory<Compiled>;
type BuildSerializer = Factory<(data: unknown) => string>;

// require(), not import: the packages (and Ajv with them) load only when a schema is first used. The
// bundle drops this line, so that esbuild bundles them (OWN_REQUIRE in scripts/bundle-plugins.ts).
const require = createRequire(import.meta.url);

const lazyValidators: BuildValidator = (externalSchemas, options) => {
  let compilerFor: ReturnType<BuildValidator> | undefined;
  return (route) => {
    let compiled: Compiled | undefined;
    const compile = (): Compiled => {
      compilerFor ??= (require('@fastify/ajv-compiler') as () => BuildValidator)()(externalSchemas, options);
      return (compiled ??= compilerFor(route));
    };
    const validate = (data: unknown, context?: unknown) => (context === undefined ? compile()(data) : compile()(data, context));
    Object.defineProperties(validate, {
      schemaEnv: { get: () => compile().schemaEnv },
      errors: { get: () => compile().errors },
    });
    return validate;
  };
};

const lazySerializers: BuildSerializer = (externalSchemas, options) => {
  let compilerFor: ReturnType<BuildSerializer> | undefined;
  return (route) => {
    let compiled: ((data: unknown) => string) | undefined;
    return (data: unknown) => {
      compilerFor ??= (require('@fastify/fast-json-stringify-compiler') as () => BuildSerializer)()(externalSchemas, options);
      return (compiled ??= compilerFor(route))(data);
    };
  };
};

/** fastify's `schemaController` option: its own compilers, built on first use. */
export const lazySchemaController = { compilersFactory: { buildValidator: lazyValidators, buildSerializer: lazySerializers } } as unknown as FastifyServerOptions['schemaController'];
