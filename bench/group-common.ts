// Shared pieces of the consumer-group benchmarks: a broker child process with the group settings
// they state, a topic, the group's coordinator, figures (median, max) and the header each run
// prints (date, command, node, machine limits measured in the same run).
import type { BrokerProcess } from '../conformance/harness/broker-process.ts';
import { KafkaClient, parseHostPort } from '../protocol/client/client.ts';
import { createTopic, startBenchBroker } from './broker-common.ts';
import { formatLimits, measureLimits } from './limits.ts';

export interface GroupBroker {
  broker: BrokerProcess;
  host: string;
  port: number;
  /** Partition counts of the topics created for the run. */
  partitionCounts: Map<string, number>;
}

/** A broker with `overrides` (group.initial.rebalance.delay.ms=0 unless given) and one topic. */
export async function startGroupBroker(topic: string, partitions: number, overrides: Record<string, string> = {}): Promise<GroupBroker> {
  const broker = await startBenchBroker({ 'group.initial.rebalance.delay.ms': '0', ...overrides });
  try {
    await createTopic(broker.bootstrap, topic, partitions);
    const { host, port } = parseHostPort(broker.bootstrap);
    return { broker, host, port, partitionCounts: new Map([[topic, partitions]]) };
  } catch (err) {
    await broker.destroy();
    throw err;
  }
}

/** The coordinator's address for a group (creating `__consumer_offsets` on first use). */
export async function coordinatorFor(bootstrap: string, groupId: string): Promise<{ host: string; port: number }> {
  const client = new KafkaClient({ bootstrapServers: bootstrap, clientId: 'samsa-bench', retries: 20 });
  try {
    const c = await client.findCoordinator(groupId);
    return { host: c.host, port: c.port };
  } finally {
    await client.close();
  }
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function max(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : Math.max(...xs);
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function num(x: number, digits = 0, width = 8): string {
  return (Number.isFinite(x) ? x.toFixed(digits) : '-').padStart(width);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Prints the run's header and, unless skipped, the machine's limits measured now. */
export async function printHeader(title: string, command: string, noLimits: boolean): Promise<void> {
  console.log(`== ${title}`);
  console.log(`   ${new Date().toISOString()}  node ${process.version}  command: ${command}`);
  console.log('   preliminary: shared 2-core machine with other work running; figures are noisy');
  if (!noLimits) {
    console.log('\nmachine limits (bench/limits.ts, same run):');
    console.log(formatLimits(await measureLimits()));
  }
}
