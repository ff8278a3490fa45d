// Configuration is read once; every problem found is collected and reported together, each
// naming the env var or flag to change, so one restart fixes everything.
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

export type Env = Readonly<Record<string, string | undefined>>;
