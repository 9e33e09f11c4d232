// `samsa transactions`: Kafka's kafka-transactions.sh (TransactionsCommand).
//   list                      ListTransactions on every broker: TransactionalId, Coordinator,
//                             ProducerId, TransactionState (--duration-filter: running longer, ms)
//   describe                  the coordinator of --transactional-id (FindCoordinator) and its
//                             DescribeTransactions answer
//   describe-producers        DescribeProducers on the leader of --topic/--partition (or --broker-id)
//   abort                     writes an ABORT marker on the partition's leader (WriteTxnMarkers), for
//                             --producer-id/--producer-epoch/--coordinator-epoch, or for the
//                             producer whose open transaction starts at --start-offset
//   find-hanging              open transactions on the partitions of --broker-id (or --topic and
//                             --partition) older than --max-transaction-timeout minutes whose
//                             coordinator does not know them as ongoing on that partition
// Output is Kafka's tab-separated table (ToolsUtils.prettyPrintTable).
import { Command } from 'commander';
import type { KafkaClient } from '../../protocol/client/client.ts';
import { ErrorCode, errorByCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { ProducerState } from '../../protocol/generated/message/describe-producers-response.ts';
import { CliError, clientFor, parseInteger, processIo, runAction, type CommandIo } from './command-io.ts';
import { prettyTable } from './pretty-table.ts';

export interface TransactionsOptions {
  bootstrapServer?: string;
  transactionalId?: string;
  topic?: string;
  partition?: string;
  brokerId?: string;
  producerId?: string;
  producerEpoch?: string;
  coordinatorEpoch?: string;
  startOffset?: string;
  maxTransactionTimeout?: string;
  durationFilter?: string;
}

function refused(what: string, code: number, message?: string | null): CliError {
  return new CliError(`${what} failed: ${errorByCode(code).name}${message ? ` (${message})` : ''}`);
}

export async function listTransactions(client: KafkaClient, durationFilterMs = -1): Promise<string[][]> {
  await client.metadata([]);
  const rows: string[][] = [];
  for (const b of [...client.brokers.keys()].sort((x, y) => x - y)) {
    const r = await client.send({ nodeId: b }, ApiKey.ListTransactions, { stateFilters: [], producerIdFilters: [], durationFilter: BigInt(durationFilterMs) });
    if (r.errorCode !== ErrorCode.NONE) throw refused(`ListTransactions on broker ${b}`, r.errorCode);
    for (const t of r.transactionStates) rows.push([t.transactionalId, String(b), String(t.producerId), t.transactionState]);
  }
  return rows;
}

async function coordinatorOf(client: KafkaClient, transactionalId: string): Promise<number> {
  const r = await client.send('any', ApiKey.FindCoordinator, { key: transactionalId, keyType: 1, coordinatorKeys: [transactionalId] });
  const c = r.coordinators?.[0] ?? { errorCode: r.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR, nodeId: r.nodeId ?? -1, errorMessage: r.errorMessage ?? null };
  if (c.errorCode !== ErrorCode.NONE) throw refused('FindCoordinator', c.errorCode, c.errorMessage);
  return c.nodeId;
}

export async function describeTransaction(client: KafkaClient, transactionalId: string, now = Date.now()): Promise<string[]> {
  const coordinator = await coordinatorOf(client, transactionalId);
  await client.metadata([]);
  const r = await client.send({ nodeId: coordinator }, ApiKey.DescribeTransactions, { transactionalIds: [transactionalId] });
  const s = r.transactionStates[0];
  if (!s) throw new CliError('DescribeTransactions returned no state');
  if (s.errorCode !== ErrorCode.NONE) throw refused('DescribeTransactions', s.errorCode);
  const start = Number(s.transactionStartTimeMs);
  return [
    String(coordinator),
    s.transactionalId,
    String(s.producerId),
    String(s.producerEpoch),
    s.transactionState,
    String(s.transactionTimeoutMs),
    start < 0 ? 'None' : String(start),
    start < 0 ? 'None' : String(now - start),
    s.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p}`)).join(','),
  ];
}

async function producersOf(client: KafkaClient, topic: string, partition: number, brokerId?: number): Promise<ProducerState[]> {
  const request = { topics: [{ name: topic, partitionIndexes: [partition] }] };
  const r = brokerId === undefined ? await client.send({ topic, partition }, ApiKey.DescribeProducers, request) : await client.send({ nodeId: brokerId }, ApiKey.DescribeProducers, request);
  const p = r.topics[0]?.partitions[0];
  if (!p) throw new CliError('DescribeProducers returned no partition');
  if (p.errorCode !== ErrorCode.NONE) throw refused(`DescribeProducers on ${topic}-${partition}`, p.errorCode, p.errorMessage);
  return p.activeProducers;
}

export function producerRows(producers: readonly ProducerState[]): string[][] {
  return producers.map((p) => [
    String(p.producerId),
    String(p.producerEpoch),
    p.coordinatorEpoch < 0 ? 'None' : String(p.coordinatorEpoch),
    String(p.lastSequence),
    String(p.lastTimestamp),
    p.currentTxnStartOffset < 0n ? 'None' : String(p.currentTxnStartOffset),
  ]);
}

async function abort(client: KafkaClient, io: CommandIo, topic: string, partition: number, o: TransactionsOptions): Promise<void> {
  let producerId: bigint, producerEpoch: number, coordinatorEpoch: number;
  if (o.startOffset !== undefined) {
    const start = BigInt(parseInteger('--start-offset', o.startOffset, 0)!);
    const p = (await producersOf(client, topic, partition)).find((x) => x.currentTxnStartOffset === start);
    if (!p) throw new CliError(`Could not find any open transactions starting at offset ${start} on partition ${topic}-${partition}`);
    [producerId, producerEpoch, coordinatorEpoch] = [p.producerId, p.producerEpoch, Math.max(0, p.coordinatorEpoch)];
  } else {
    if (o.producerId === undefined || o.producerEpoch === undefined || o.coordinatorEpoch === undefined) {
      throw new CliError('Either --start-offset or all of --producer-id, --producer-epoch and --coordinator-epoch are required');
    }
    producerId = BigInt(parseInteger('--producer-id', o.producerId, 0)!);
    producerEpoch = parseInteger('--producer-epoch', o.producerEpoch, 0)!;
    coordinatorEpoch = parseInteger('--coordinator-epoch', o.coordinatorEpoch, 0)!;
  }
  const r = await client.send({ topic, partition }, ApiKey.WriteTxnMarkers, {
    markers: [{ producerId, producerEpoch, transactionResult: false, coordinatorEpoch, topics: [{ name: topic, partitionIndexes: [partition] }] }],
  });
  const code = r.markers[0]?.topics[0]?.partitions[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
  if (code !== ErrorCode.NONE) throw refused('Abort', code);
  io.out(`Successfully aborted the transaction of producer ${producerId} (epoch ${producerEpoch}) on ${topic}-${partition}\n`);
}

export interface OpenTransaction {
  topic: string;
  partition: number;
  producer: ProducerState;
}

/** Kafka's find-hanging: the open transactions past the timeout that their coordinator does not hold as ongoing on the partition. */
export async function findHanging(client: KafkaClient, o: { brokerId?: number; topic?: string; partition?: number; maxTransactionTimeoutMin: number }, now = Date.now()): Promise<OpenTransaction[]> {
  const md = await client.metadata(o.topic === undefined ? null : [o.topic]);
  const targets: { topic: string; partition: number }[] = [];
  for (const t of md.topics) {
    if (o.topic !== undefined && t.name !== o.topic) continue;
    for (const p of t.partitions) {
      if (o.partition !== undefined && p.partitionIndex !== o.partition) continue;
      if (o.brokerId !== undefined && !p.replicaNodes.includes(o.brokerId)) continue;
      targets.push({ topic: t.name ?? '', partition: p.partitionIndex });
    }
  }
  const cutoff = now - o.maxTransactionTimeoutMin * 60_000;
  const candidates: OpenTransaction[] = [];
  for (const tp of targets) {
    for (const p of await producersOf(client, tp.topic, tp.partition)) {
      if (p.currentTxnStartOffset >= 0n && Number(p.lastTimestamp) <= cutoff) candidates.push({ ...tp, producer: p });
    }
  }
  if (candidates.length === 0) return [];
  // Which transactional id each candidate producer id belongs to, from every coordinator.
  const byPid = new Map<bigint, { transactionalId: string; coordinator: number }>();
  await client.metadata([]);
  for (const b of client.brokers.keys()) {
    const r = await client.send({ nodeId: b }, ApiKey.ListTransactions, { stateFilters: [], producerIdFilters: [...new Set(candidates.map((c) => c.producer.producerId))], durationFilter: -1n });
    for (const t of r.transactionStates) byPid.set(t.producerId, { transactionalId: t.transactionalId, coordinator: b });
  }
  const hanging: OpenTransaction[] = [];
  for (const c of candidates) {
    const owner = byPid.get(c.producer.producerId);
    if (!owner) {
      hanging.push(c);
      continue;
    }
    const d = (await client.send({ nodeId: owner.coordinator }, ApiKey.DescribeTransactions, { transactionalIds: [owner.transactionalId] })).transactionStates[0];
    const active = d && d.errorCode === ErrorCode.NONE && d.producerId === c.producer.producerId && ['Ongoing', 'PrepareCommit', 'PrepareAbort', 'PrepareEpochFence'].includes(d.transactionState);
    const holds = active && d.topics.some((t) => t.topic === c.topic && t.partitions.includes(c.partition));
    if (!holds) hanging.push(c);
  }
  return hanging;
}

export async function runTransactions(action: string, o: TransactionsOptions, io: CommandIo = processIo, now = Date.now()): Promise<void> {
  const client = clientFor(o.bootstrapServer, 'samsa-transactions');
  try {
    const partition = parseInteger('--partition', o.partition, 0);
    const brokerId = parseInteger('--broker-id', o.brokerId, 0);
    switch (action) {
      case 'list':
        io.out(prettyTable(['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState'], await listTransactions(client, parseInteger('--duration-filter', o.durationFilter, -1) ?? -1)));
        return;
      case 'describe':
        if (!o.transactionalId) throw new CliError('Missing required argument --transactional-id');
        io.out(
          prettyTable(
            ['CoordinatorId', 'TransactionalId', 'ProducerId', 'ProducerEpoch', 'TransactionState', 'TransactionTimeoutMs', 'CurrentTransactionStartTimeMs', 'TransactionDurationMs', 'TopicPartitions'],
            [await describeTransaction(client, o.transactionalId, now)],
          ),
        );
        return;
      case 'describe-producers':
        if (o.topic === undefined || partition === undefined) throw new CliError('Missing required arguments --topic and --partition');
        io.out(prettyTable(['ProducerId', 'ProducerEpoch', 'LatestCoordinatorEpoch', 'LastSequence', 'LastTimestamp', 'CurrentTransactionStartOffset'], producerRows(await producersOf(client, o.topic, partition, brokerId))));
        return;
      case 'abort':
        if (o.topic === undefined || partition === undefined) throw new CliError('Missing required arguments --topic and --partition');
        await abort(client, io, o.topic, partition, o);
        return;
      case 'find-hanging': {
        if (brokerId === undefined && o.topic === undefined) throw new CliError('Either --broker-id or --topic is required');
        const max = parseInteger('--max-transaction-timeout', o.maxTransactionTimeout, 0) ?? 15;
        const hanging = await findHanging(client, { brokerId, topic: o.topic, partition, maxTransactionTimeoutMin: max }, now);
        io.out(
          prettyTable(
            ['Topic', 'Partition', 'ProducerId', 'ProducerEpoch', 'CoordinatorEpoch', 'StartOffset', 'LastTimestamp', 'Duration(min)'],
            hanging.map((h) => [
              h.topic,
              String(h.partition),
              String(h.producer.producerId),
              String(h.producer.producerEpoch),
              String(h.producer.coordinatorEpoch),
              String(h.producer.currentTxnStartOffset),
              String(h.producer.lastTimestamp),
              String(Math.floor((now - Number(h.producer.lastTimestamp)) / 60_000)),
            ]),
          ),
        );
        return;
      }
      default:
        throw new CliError(`Unknown action ${action}`);
    }
  } finally {
    await client.close();
  }
}

const OPTION_HELP: [string, string][] = [
  ['--bootstrap-server <servers>', 'the server(s) to use for bootstrapping'],
  ['--transactional-id <id>', 'transactional id (describe)'],
  ['--topic <topic>', 'topic (describe-producers, abort, find-hanging)'],
  ['--partition <n>', 'partition (describe-producers, abort, find-hanging)'],
  ['--broker-id <id>', 'broker to ask (describe-producers) or whose partitions to search (find-hanging)'],
  ['--producer-id <id>', 'producer id of the transaction to abort'],
  ['--producer-epoch <n>', 'producer epoch of the transaction to abort'],
  ['--coordinator-epoch <n>', 'coordinator epoch of the transaction to abort'],
  ['--start-offset <offset>', 'first offset of the open transaction to abort'],
  ['--max-transaction-timeout <min>', 'find-hanging: transactions open longer than this many minutes (default 15)'],
  ['--duration-filter <ms>', 'list: only transactions running longer than this'],
];

export function transactionsCommand(io: CommandIo = processIo): Command {
  const cmd = new Command('transactions').description('List, describe, abort and find hanging transactions (kafka-transactions).');
  for (const [flag, help] of OPTION_HELP) cmd.option(flag, help);
  for (const action of ['list', 'describe', 'describe-producers', 'abort', 'find-hanging']) {
    const sub = new Command(action);
    for (const [flag, help] of OPTION_HELP) sub.option(flag, help);
    sub.action(async (o: TransactionsOptions) => {
      const merged = { ...cmd.opts<TransactionsOptions>(), ...o };
      await runAction(io, 'Error: ', () => runTransactions(action, merged, io));
    });
    cmd.addCommand(sub);
  }
  return cmd;
}
