// The shape of a client's result file, `<os tmpdir>/samsa-conformance/<client>.json` (with a
// `groups-` and/or `cluster-` prefix for the group scenarios and the three-node cluster runs):
// written by client-report.ts during a run, read by write-matrix.ts to render the matrix.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyCheckId, MatrixKind } from './checks.ts';
import type { TargetKind } from './target.ts';

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
  /** What the checks ran against; a single broker when absent. */
  target?: TargetKind;
  /** How the matrix names the client, e.g. "kafka-python". */
  title: string;
  /** Versions of the client and the libraries under it, as detected. */
  version: string;
  results: CheckResult[];
}

export const RESULTS_DIR = join(tmpdir(), 'samsa-conformance');
