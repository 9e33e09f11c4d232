// The Java producer's default partitioning: a keyed record goes to
// toPositive(murmur2(keyBytes)) % numPartitions, so keys land where Kafka's own clients put them;
// a record without a key goes to a sticky partition that changes once batch.size bytes have been
// sent to it (KIP-480, the built-in partitioner of Kafka 3.3+), so null-key records fill batches.
// murmur2 is Kafka's Utils.murmur2 (seed 0x9747b28c) on 32-bit signed arithmetic.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  // The tail bytes, as Kafka's fall-through switch on length % 4 reads them.
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which fails on MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions;
}

/** Chooses partitions for records of one topic; null keys stick to a partition for batch.size bytes. */
export class DefaultPartitioner {
  private sticky = -1;
  private stickyBytes = 0;
  private readonly batchSize: number;
  private readonly random: () => number;

  constructor(options: { batchSize: number; random?: () => number }) {
    this.batchSize = Math.max(1, options.batchSize);
    this.random = options.random ?? Math.random;
  }

  partition(key: Uint8Array | null, recordBytes: number, numPartitions: number): number {
    if (key !== null) return partitionForKey(key, numPartitions);
    if (this.sticky < 0 || this.sticky >= numPartitions || this.stickyBytes >= this.batchSize) {
      this.sticky = nextSticky(this.sticky, numPartitions, this.random);
      this.stickyBytes = 0;
    }
    this.stickyBytes += recordBytes;
    return this.sticky;
  }
}

/** A random partition other than the previous one, when there is a choice. */
function nextSticky(previous: number, numPartitions: number, random: () => number): number {
  if (numPartitions <= 1) return 0;
  let next = Math.floor(random() * numPartitions);
  if (next === previous) next = (next + 1) % numPartitions;
  return next;
}
