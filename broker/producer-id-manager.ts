// Hands out producer ids for InitProducerId from blocks the controller allocates
// (ProducerIdsRecord), fetching the next block before the current one runs out.
import { ErrorCode, KafkaError } from '../protocol/errors.ts';

export interface ProducerIdBlockSource {
  allocate(): Promise<{ errorCode: number; producerIdStart: bigint; producerIdLen: number }>;
}

/** Fetch the next block when this many ids are left, so InitProducerId rarely waits. */
const PREFETCH_REMAINING = 100;

export class ProducerIdManager {
  private next = 0n;
  private end = 0n;
  private prefetched: { start: bigint; len: number } | null = null;
  private inflight: Promise<void> | null = null;
  private readonly source: ProducerIdBlockSource;

  constructor(source: ProducerIdBlockSource) {
    this.source = source;
  }

  private fetchBlock(): Promise<void> {
    this.inflight ??= this.source
      .allocate()
      .then((res) => {
        if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode as ErrorCode, 'the controller refused a producer id block');
        this.prefetched = { start: res.producerIdStart, len: res.producerIdLen };
      })
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }

  async generate(): Promise<bigint> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.next >= this.end && this.prefetched) {
        this.next = this.prefetched.start;
        this.end = this.prefetched.start + BigInt(this.prefetched.len);
        this.prefetched = null;
      }
      if (this.next < this.end) {
        const id = this.next++;
        if (this.end - this.next <= PREFETCH_REMAINING && !this.prefetched) void this.fetchBlock().catch(() => undefined);
        return id;
      }
      await this.fetchBlock();
    }
    throw new KafkaError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, 'no producer id block is available yet');
  }
}
