// What every control operation returns: the records that carry out the change (committed by the
// quorum before anything takes effect) and the answer to give once they are committed.
import type { MetadataRecord } from './metadata/record-serde.ts';

export interface ControllerResult<T> {
  records: MetadataRecord[];
  response: T;
}
