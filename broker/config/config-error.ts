// The startup error for a bad broker configuration: every problem found, each naming its key, so
// an operator fixes them in one pass. Thrown by parseBrokerConfig and loadServerProperties; the
// broker refuses to start rather than run with a setting it would silently ignore.

export interface ConfigProblem {
  /** The property at fault, or null for a problem spanning several (none naming one). */
  key: string | null;
  message: string;
}

export class ConfigError extends Error {
  readonly code = 'INVALID_BROKER_CONFIG';
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[], heading = 'Invalid broker configuration') {
    super(problems.length === 1 ? `${heading}: ${problems[0]!.message}` : `${heading}:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
