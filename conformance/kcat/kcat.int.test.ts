// librdkafka through kcat against a broker process and a three-node cluster: metadata (-L), produce
// per partition with keys, headers, each acks level, every codec and idempotence (-P), consume from
// the beginning to the end of each partition (-C -o beginning -e), offsets by timestamp (-Q) and
// the balanced consumer (-G). kcat has no admin commands. Every kcat run is a child process with a
// timeout; -J gives JSON to parse.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { defineClientSuite, type ClientDriver, type ClientSuiteOptions } from '../harness/client-suite.ts';
import { singleBroker, threeNodeCluster } from '../harness/target.ts';
import { run } from '../harness/child-json.ts';
import { byPartition } from '../harness/records.ts';
import { LZ4_NEEDS } from './librdkafka.ts';

const KCAT = 'kcat';
const TIMEOUT_MS = 20_000;

async function kcat(bootstrap: string, args: readonly string[], input = ''): Promise<string> {
  const all = ['-b', bootstrap, '-X', 'socket.timeout.ms=10000', ...args];
  const r = await run(KCAT, all, { input, timeoutMs: TIMEOUT_MS });
  if (r.timedOut) throw new Error(`kcat ${all.join(' ')} timed out\n${r.stderr}`);
  // kcat exits 0 even when some deliveries failed; it says so on stderr.
  if (r.code !== 0 || /Delivery failed|ERROR/.test(r.stderr)) throw new Error(`kcat ${all.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

function jsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

interface KcatMessage {
  partition: number;
  offset: number;
  ts: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

function kcatDriver(bootstrap: string): ClientDriver {
  return {
    async metadata(topic) {
      const md = JSON.parse(await kcat(bootstrap, ['-L', '-J', '-t', topic])) as {
        brokers: Array<{ id: number; name: string }>;
        topics: Array<{ topic: string; partitions: Array<{ partition: number }> }>;
      };
      return {
        brokers: md.brokers.map((b) => {
          const at = b.name.lastIndexOf(':');
          return { nodeId: b.id, host: b.name.slice(0, at), port: Number(b.name.slice(at + 1)) };
        }),
        partitions: md.topics.find((t) => t.topic === topic)!.partitions.map((p) => p.partition),
      };
    },
    async produce(topic, records, spec) {
      // One run per partition: kcat sets headers per run, and the records of a partition share them.
      for (const [partition, list] of byPartition(records)) {
        const headers = list[0]!.headers;
        for (const r of list) if (JSON.stringify(r.headers) !== JSON.stringify(headers)) throw new Error('kcat sets one header set per run');
        const args = ['-P', '-t', topic, '-p', String(partition), '-K', '\t', '-X', `acks=${spec.acks === -1 ? 'all' : spec.acks}`];
        for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
        if (spec.compression) args.push('-z', spec.compression);
        if (spec.idempotent) args.push('-X', 'enable.idempotence=true');
        await kcat(bootstrap, args, list.map((r) => `${r.key}\t${r.value}\n`).join(''));
      }
    },
    async consume(topic) {
      // Without -p, kcat reads every partition and (-e) exits once each has reached its end.
      const text = await kcat(bootstrap, ['-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-q', '-X', 'fetch.wait.max.ms=50']);
      return jsonLines<KcatMessage>(text).map((m) => {
        const headers: Record<string, string> = {};
        for (let i = 0; i + 1 < (m.headers?.length ?? 0); i += 2) headers[m.headers![i]!] = m.headers![i + 1]!;
        return { partition: m.partition, offset: m.offset, key: m.key, value: m.payload, headers, timestamp: m.ts };
      });
    },
    async groupConsume(topic, group, expected) {
      // Balanced consumer (-G): a new group, so auto.offset.reset decides the start; -c stops after
      // the expected count, and closing the consumer commits the offsets it consumed.
      const args = ['-G', group, topic, '-J', '-q', '-c', String(expected), '-X', 'auto.offset.reset=earliest', '-X', 'session.timeout.ms=6000', '-X', 'heartbeat.interval.ms=500', '-X', 'fetch.wait.max.ms=50'];
      return jsonLines<KcatMessage>(await kcat(bootstrap, args)).map((m) => {
        const headers: Record<string, string> = {};
        for (let i = 0; i + 1 < (m.headers?.length ?? 0); i += 2) headers[m.headers![i]!] = m.headers![i + 1]!;
        return { partition: m.partition, offset: m.offset, key: m.key, value: m.payload, headers };
      });
    },
    async offsetForTime(topic, partition, timestamp) {
      const answer = JSON.parse(await kcat(bootstrap, ['-Q', '-J', '-t', `${topic}:${partition}:${timestamp}`])) as Record<string, Record<string, { offset: number }>>;
      return answer[topic]![String(partition)]!.offset;
    },
  };
}

const suite: ClientSuiteOptions = {
  client: 'kcat',
  title: 'kcat (librdkafka)',
  async detect() {
    try {
      const r = await run(KCAT, ['-V'], { timeoutMs: 5000 });
      const m = /Version (\S+).*librdkafka (\S+)/.exec(r.stdout);
      return m ? { version: `${m[1]} (librdkafka ${m[2]})` } : { unavailable: `kcat -V said: ${r.stdout.slice(0, 100)}` };
    } catch {
      return { unavailable: 'kcat is not installed (apt-get install kcat)' };
    }
  },
  async driver(bootstrap) {
    return kcatDriver(bootstrap);
  },
  // -o beginning is resolved with ListOffsets.
  consumeRequires: [ApiKey.ListOffsets],
  extraRequires: { lz4: LZ4_NEEDS },
  notApplicable: {
    'create-topics': 'kcat has no admin commands',
    'describe-topics': 'kcat has no admin commands (-L is the metadata check)',
    'delete-topics': 'kcat has no admin commands',
  },
};

await defineClientSuite(suite, singleBroker());
await defineClientSuite(suite, threeNodeCluster());
