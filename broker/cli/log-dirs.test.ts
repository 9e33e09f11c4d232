import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { brokerLogDirs, formatLogDirsJson, runLogDirs } from './log-dirs.ts';

describe('samsa log-dirs', () => {
  it("prints Kafka's JSON for a broker's answer, filtered to the topics asked for", () => {
    const results = [
      {
        errorCode: ErrorCode.NONE,
        logDir: '/data/a',
        topics: [
          { name: 'orders', partitions: [{ partitionIndex: 0, partitionSize: 1234n, offsetLag: 0n, isFutureKey: false }] },
          { name: 'other', partitions: [{ partitionIndex: 3, partitionSize: 5n, offsetLag: 2n, isFutureKey: false }] },
        ],
        totalBytes: 100n,
        usableBytes: 50n,
      },
      { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, logDir: '/data/b', topics: [], totalBytes: -1n, usableBytes: -1n },
    ];
    expect(formatLogDirsJson([brokerLogDirs(2, results, ['orders'])])).toBe(
      '{"brokers":[{"broker":2,"logDirs":[{"logDir":"/data/a","error":null,"partitions":[{"partition":"orders-0","size":1234,"offsetLag":0,"isFuture":false}]},{"logDir":"/data/b","error":"org.apache.kafka.common.errors.KafkaStorageException","partitions":[]}]}],"version":1}',
    );
    expect(brokerLogDirs(2, results, []).logDirs[0]!.partitions.map((p) => p.partition)).toEqual(['orders-0', 'other-3']);
  });

  it('requires --describe', async () => {
    await expect(runLogDirs({ bootstrapServer: 'localhost:1' })).rejects.toThrow('Command must include exactly one action: --describe');
  });
});
