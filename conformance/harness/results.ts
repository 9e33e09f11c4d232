// The shape of a client's result file, `<os tmpdir>/samsa-conformance/<client>.json`: written by
// client-report.ts during a run, read by write-matrix.ts to render the matrix.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyCheckId, MatrixKind } from './checks.ts';

export type Outcome = 'pass' | 'fail' | 'expected-fail' | 'skip' | 'n/a';

export interface CheckResult {
  check: AnyCheckId;
  outcome: Outcome;
  /** Why it was skipped or n/a, the finding of an expected failure, or the first line of an error. */
  note?: string;
}

export interface ClientResults {
  client: string;
  /** The matrix the results go in; per-client checks when absent. */
  matrix?: MatrixKind;
  /** How the matrix names the client, e.g. "kafka-python". */
  title: string;
  /** Versions of the client and the libraries under it, as detected. */
  version: string;
  results: CheckResult[];
}

export const RESULTS_DIR = join(tmpdir(), 'samsa-conformance');
