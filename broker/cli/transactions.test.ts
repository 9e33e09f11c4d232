import { describe, expect, it } from 'vitest';
import { producerRows, runTransactions } from './transactions.ts';
import { buildProgram } from './program.ts';

describe('samsa transactions', () => {
  it('prints producers as kafka-transactions.sh does (None for what is unknown)', () => {
    expect(
      producerRows([
        { producerId: 5n, producerEpoch: 1, lastSequence: 9, lastTimestamp: 1700n, coordinatorEpoch: -1, currentTxnStartOffset: -1n },
        { producerId: 6n, producerEpoch: 0, lastSequence: 0, lastTimestamp: 1800n, coordinatorEpoch: 3, currentTxnStartOffset: 42n },
      ]),
    ).toEqual([
      ['5', '1', 'None', '9', '1700', 'None'],
      ['6', '0', '3', '0', '1800', '42'],
    ]);
  });

  it('refuses incomplete arguments before connecting', async () => {
    await expect(runTransactions('describe', { bootstrapServer: '127.0.0.1:1' })).rejects.toThrow('--transactional-id');
    await expect(runTransactions('abort', { bootstrapServer: '127.0.0.1:1', topic: 't' })).rejects.toThrow('--topic and --partition');
    await expect(runTransactions('find-hanging', { bootstrapServer: '127.0.0.1:1' })).rejects.toThrow('--broker-id or --topic');
    await expect(runTransactions('list', {})).rejects.toThrow('bootstrap-server');
  });

  it('is a samsa command with the five actions', () => {
    const t = buildProgram().program.commands.find((c) => c.name() === 'transactions');
    expect(t?.commands.map((c) => c.name())).toEqual(['list', 'describe', 'describe-producers', 'abort', 'find-hanging']);
  });
});
